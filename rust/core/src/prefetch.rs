//! Write prefetch: asking for a cache line in exclusive state ahead of a
//! store to it.
//!
//! Why: a publication stores into lines a reader thread copied earlier, so
//! each of those stores first waits for the line to come back from the
//! reader's core (~100–200 ns on a server mesh). Stores commit in order, so
//! a handful of such lines per publication stall the writer's next book
//! work. Asking for the lines of the *next* publication's slot right after
//! a publication (which no reader reads until it is published) overlaps
//! those transfers with the book work in between (`benches/publish.rs`).
//!
//! x86-64 only (`PREFETCHW`, on CPUs whose CPUID reports it: every x86-64
//! CPU since Intel Broadwell and AMD K8); a no-op elsewhere, including
//! under loom.

#[cfg(loom)]
use loom::sync::atomic::AtomicU64;
#[cfg(not(loom))]
use std::sync::atomic::AtomicU64;

/// True when [`for_write`] does anything on this CPU. Detected once per
/// call site owner (CPUID is ~100 cycles; callers keep the answer).
pub fn supported() -> bool {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    {
        use std::arch::x86_64::__cpuid;
        // Leaf 0x8000_0001 ECX bit 8: PRFCHW (PREFETCHW); the leaf exists
        // when the highest extended leaf is at least that.
        if __cpuid(0x8000_0000).eax >= 0x8000_0001 {
            return (__cpuid(0x8000_0001).ecx >> 8) & 1 == 1;
        }
        false
    }
    #[cfg(not(all(target_arch = "x86_64", not(loom))))]
    {
        false
    }
}

/// Hints that the line holding `a` will be stored to soon. Only a hint: it
/// changes no value and no ordering (PREFETCHW is unordered with every
/// load, store and fence), so the seqlock's argument does not depend on
/// it. Call only where [`supported`] said true.
#[inline]
pub fn for_write(a: &AtomicU64) {
    #[cfg(all(target_arch = "x86_64", not(loom)))]
    // SAFETY: PREFETCHW reads no memory architecturally and never faults
    // (a prefetch of any address is at most ignored); `a` is a live
    // reference anyway. It writes no register or flag and uses no stack.
    // The caller has checked CPUID for the instruction (`supported`).
    #[allow(unsafe_code)]
    unsafe {
        std::arch::asm!(
            "prefetchw [{0}]",
            in(reg) a.as_ptr(),
            options(nostack, readonly, preserves_flags)
        );
    }
    #[cfg(not(all(target_arch = "x86_64", not(loom))))]
    let _ = a;
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_prefetch_changes_no_value() {
        let a = AtomicU64::new(7);
        if supported() {
            for_write(&a);
        }
        assert_eq!(a.load(std::sync::atomic::Ordering::Relaxed), 7);
    }
}
