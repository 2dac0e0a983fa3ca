//! Pickled book state: any byte string is a typed error or a book that
//! serialises back to the same bytes (a flipped byte is never another book).
#![no_main]
use libfuzzer_sys::fuzz_target;
use lobkit_core::{L2Book, L3Book};

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = L2Book::from_bytes(data) {
        assert_eq!(L2Book::from_bytes(&b.to_bytes()).map(|c| c.to_bytes()), Ok(b.to_bytes()));
    }
    if let Ok(b) = L3Book::from_bytes(data) {
        assert_eq!(L3Book::from_bytes(&b.to_bytes()).map(|c| c.to_bytes()), Ok(b.to_bytes()));
    }
});
