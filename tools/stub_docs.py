"""Copies the extension's runtime docstrings (the Rust `///` comments PyO3
exports) into ``python/lobkit/_core.pyi``, so IDEs and type checkers show them.

    python tools/stub_docs.py          # rewrite the stub in place
    python tools/stub_docs.py --check  # exit 1 if a docstring is missing or stale

``tests/test_stubs.py`` runs the check, so a changed Rust doc comment fails
the suite until the stub is regenerated. Needs the built extension.
"""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path

import lobkit._core as core

STUB = Path(__file__).resolve().parent.parent / "python" / "lobkit" / "_core.pyi"
#: Stub-only classes and the runtime class their members are read from.
STAND_IN = {"_BookView": "L2Book"}


def runtime_doc(cls: str | None, name: str | None) -> str | None:
    obj: object = core
    if cls is not None:
        obj = getattr(core, STAND_IN.get(cls, cls), None)
    if name is not None and obj is not None:
        obj = getattr(obj, name, None)
    doc = getattr(obj, "__doc__", None)
    if not doc or obj is None:
        return None
    # PyO3 puts the text signature first for functions; the stub has the signature.
    return inspect.cleandoc(doc)


def targets(tree: ast.Module) -> list[tuple[ast.AST, str | None, str | None]]:
    out: list[tuple[ast.AST, str | None, str | None]] = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            if node.name not in STAND_IN:
                out.append((node, node.name, None))
            for m in node.body:
                if isinstance(m, ast.FunctionDef) and not m.name.startswith("__"):
                    out.append((m, node.name, m.name))
        elif isinstance(node, ast.FunctionDef):
            out.append((node, None, node.name))
    return out


def quoted(doc: str, indent: str) -> str:
    body = doc.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines = body.split("\n")
    if len(lines) == 1:
        return f'{indent}"""{body}"""'
    return f'{indent}"""' + ("\n".join([lines[0]] + [indent + l if l else "" for l in lines[1:]])
                            + f"\n{indent}\"\"\"")


def rewrite(src: str) -> tuple[str, list[str]]:
    tree = ast.parse(src)
    lines = src.split("\n")
    problems: list[str] = []
    edits: list[tuple[int, int, list[str]]] = []  # (first line idx, last idx, replacement)
    for node, cls, name in targets(tree):
        assert isinstance(node, (ast.ClassDef, ast.FunctionDef))
        want = runtime_doc(cls, name)
        have = ast.get_docstring(node)
        label = ".".join(x for x in (cls, name) if x)
        if want is None or have == want:
            continue
        problems.append(f"{label}: {'missing' if have is None else 'stale'} docstring")
        first = node.body[0]
        indent = " " * (node.col_offset + 4)
        if have is not None:  # replace the stale docstring statement
            edits.append((first.lineno - 1, first.end_lineno - 1, quoted(want, indent).split("\n")))
            continue
        if isinstance(node, ast.FunctionDef) and isinstance(first, ast.Expr) and \
                lines[first.lineno - 1].rstrip().endswith(": ..."):
            # `def f(...) -> T: ...` on its last line: move the body below.
            i = first.lineno - 1
            head = lines[i].rstrip()[: -len(" ...")]
            edits.append((i, i, [head] + quoted(want, indent).split("\n")))
        else:  # a class or a def with a block body: insert a docstring first
            decorators = getattr(first, "decorator_list", [])
            i = min([first.lineno] + [d.lineno for d in decorators]) - 1
            edits.append((i, i - 1, quoted(want, indent).split("\n")))
    # Bottom up; at one line a replacement goes before an insertion above it.
    for first, last, repl in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        lines[first:last + 1] = repl
    return "\n".join(lines), problems


def main() -> int:
    src = STUB.read_text()
    new, problems = rewrite(src)
    if "--check" in sys.argv:
        for p in problems:
            print(p)
        return 1 if problems else 0
    STUB.write_text(new)
    print(f"{len(problems)} docstrings written to {STUB}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
