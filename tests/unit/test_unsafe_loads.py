"""No code path deserialises outside files with pickle: checked on the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    p
    for folder in ("core", "dashboard", "pages", "benchmarks", "scripts")
    for p in (ROOT / folder).rglob("*.py")
)
BANNED_MODULES = {"pickle", "cPickle", "dill", "joblib", "shelve", "marshal", "cloudpickle"}


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def _name(func: ast.expr) -> str:
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


def _kw(call: ast.Call, name: str):
    for k in call.keywords:
        if k.arg == name:
            return k.value.value if isinstance(k.value, ast.Constant) else "<expr>"
    return None


def test_there_is_source_to_check():
    assert len(SOURCES) > 30


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_pickle_based_loading(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            problems += [f"imports {m}" for m in mods if m and m.split(".")[0] in BANNED_MODULES]
    for call in _calls(tree):
        name = _name(call.func)
        where = f"line {call.lineno}: {name}"
        if name.endswith("torch.load") and _kw(call, "weights_only") is not True:
            problems.append(f"{where} without weights_only=True")
        if name in {"np.load", "numpy.load"} and _kw(call, "allow_pickle") is not False:
            problems.append(f"{where} without allow_pickle=False")
        if name.endswith("read_pickle"):
            problems.append(where)
        if name.endswith("from_pretrained") and _kw(call, "trust_remote_code") not in (None, False):
            problems.append(f"{where} with trust_remote_code")
        if (
            name.startswith("AutoModel")
            and name.endswith("from_pretrained")
            and _kw(call, "use_safetensors") is not True
        ):
            problems.append(f"{where} may load a pickled .bin checkpoint (use_safetensors=True)")
        if isinstance(call.func, ast.Name) and name in {"eval", "exec"}:
            problems.append(where)
    assert not problems, f"{path.relative_to(ROOT)}: " + "; ".join(problems)


def test_the_checker_catches_what_it_is_meant_to(tmp_path):
    bad = (
        "import pickle\nimport numpy as np\nimport torch\n"
        "x = torch.load('f.pt')\ny = np.load('f.npy')\nz = eval('1')\n"
    )
    tree = ast.parse(bad)
    names = {_name(c.func) for c in _calls(tree)}
    assert {"torch.load", "np.load", "eval"} <= names
    assert (
        _kw(next(c for c in _calls(tree) if _name(c.func) == "torch.load"), "weights_only") is None
    )
