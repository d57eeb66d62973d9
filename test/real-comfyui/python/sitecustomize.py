"""Loaded by every Python start while this folder is on PYTHONPATH (the real-ComfyUI tests put it there).

The one stub of the suite: Debian 12's torch is 1.13 (PyPI has only CUDA builds of torch 2, gigabytes, and
no CPU build), and ComfyUI v0.3.77 reads torch 2 dtypes at import time (comfy/quant_ops.py). These
placeholders make the module import; nothing in the UI uses them. Everything else is a real package.
"""
try:
    import torch as _t
    for _n in ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "uint16", "uint32", "uint64"):
        if not hasattr(_t, _n):
            setattr(_t, _n, _t.float16 if _n.startswith("float8") else _t.int32)
except Exception:
    pass
