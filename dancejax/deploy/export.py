"""Exported models: a trained refiner, predictor or streaming step as serialized StableHLO.

``export_model(model, out, kind)`` writes a folder::

    out/
      model.stablehlo    the ``jax.export`` artifact (parameters baked in, batch dimension symbolic)
      signature.json     format and version, kind, inputs and outputs (names, shapes with "b" for
                         the batch, dtypes), and what a user needs to know (window, horizon, styles)

``run_exported(out, inputs)`` runs it with nothing but JAX: no dancejax model code, no Flax.
``dancejax export RUN OUT`` and ``dancejax run-exported OUT input.npz`` do the same from the
command line.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from dancejax import __version__
from dancejax.errors import DataError
from dancejax.io.validate import load_versioned_json

FORMAT = "dancejax-export"
VERSION = 1
KINDS = ("refiner", "predictor", "stream")


def _spec(shape, dtype="float32"):
    return {"shape": list(shape), "dtype": dtype}


def export_model(model, out, kind: str | None = None) -> Path:
    """Export a ``Refiner`` ('refiner', or 'stream' for its streaming step) or a ``Predictor``
    ('predictor' or 'stream').

    Args:
        model: a ``Refiner`` or ``Predictor`` (``dancejax.load_model``).
        out: the artifact folder.
        kind: what to export (default: the model's own call).

    Returns:
        The folder, holding the serialized ``jax.export`` artifact and ``signature.json``.
    """
    from dancejax.deploy.stream import make_stream_step

    is_ref = hasattr(model, "styles")
    kind = kind or ("refiner" if is_ref else "predictor")
    if kind not in KINDS:
        raise DataError(f"export: unknown kind {kind!r}; use one of {KINDS}")
    (b,) = jax.export.symbolic_shape("b")
    cfg = model.cfg
    info = {"dancejax_version": __version__, "task": "recognition" if is_ref else "prediction", "method": cfg.method}
    if kind == "refiner":
        if not is_ref:
            raise DataError("export: 'refiner' needs a recognition model")
        from dancejax.tasks.recognition import _inference_fn

        fn = _inference_fn(cfg.model.clone(dropout=0.0), cfg.flip_test, cfg.keep_uncertain)
        v = model.variables
        t = cfg.window
        f = lambda x, c: fn(v, x, c)
        args = (jax.ShapeDtypeStruct((b, t, 14, 2), jnp.float32), jax.ShapeDtypeStruct((b, t, 14), jnp.float32))
        inputs = {"keypoints": _spec(["b", t, 14, 2]), "confidence": _spec(["b", t, 14])}
        outputs = {"refined": _spec(["b", t, 14, 2]), "style_scores": _spec(["b", cfg.model.num_styles])}
        info.update(window=t, styles=model.styles, units="pixels")
    elif kind == "predictor":
        if is_ref:
            raise DataError("export: 'predictor' needs a prediction model")
        from dancejax.tasks.prediction import forward

        v = model.variables
        m = cfg.model
        f = lambda obs: forward(cfg, v, obs)
        args = (jax.ShapeDtypeStruct((b, m.obs, m.joints, m.dims), jnp.float32),)
        inputs = {"observed": _spec(["b", m.obs, m.joints, m.dims])}
        outputs = {"predicted": _spec(["b", m.pred, m.joints, m.dims])}
        info.update(obs=m.obs, pred=m.pred, units="metres", fps=25.0)
    else:
        step = make_stream_step(model if is_ref else None, None if is_ref else model)
        w = cfg.window if is_ref else cfg.obs
        d = 2 if is_ref else cfg.model.dims
        f = lambda buf, conf, count, frame, fconf: step(buf, conf, count, frame, fconf)
        args = (
            jax.ShapeDtypeStruct((b, w, 14, d), jnp.float32),
            jax.ShapeDtypeStruct((b, w, 14), jnp.float32),
            jax.ShapeDtypeStruct((), jnp.int32),
            jax.ShapeDtypeStruct((b, 14, d), jnp.float32),
            jax.ShapeDtypeStruct((b, 14), jnp.float32),
        )
        inputs = {
            "buffer": _spec(["b", w, 14, d]),
            "buffer_confidence": _spec(["b", w, 14]),
            "count": _spec([], "int32"),
            "frame": _spec(["b", 14, d]),
            "frame_confidence": _spec(["b", 14]),
        }
        outputs = {
            "buffer": _spec(["b", w, 14, d]),
            "buffer_confidence": _spec(["b", w, 14]),
            "outputs": {"refined": _spec(["b", 14, d])},
        }
        info.update(window=w, styles=getattr(model, "styles", None))
    exp = jax.export.export(jax.jit(f))(*args)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: a file is in the way of the export folder")
    out.mkdir(parents=True, exist_ok=True)
    data = exp.serialize()
    (out / "model.stablehlo").write_bytes(data)
    sig = {
        "format": FORMAT,
        "version": VERSION,
        "kind": kind,
        "inputs": inputs,
        "outputs": outputs,
        **info,
        "bytes": len(data),
    }
    (out / "signature.json").write_text(json.dumps(sig, indent=1))
    return out


def read_signature(path) -> dict:
    path = Path(path)
    f = path / "signature.json"
    if not f.exists():
        raise DataError(f"{path}: not an exported model (signature.json missing)")
    sig = load_versioned_json(f, FORMAT, VERSION, lambda d, v: f"exported by a newer format (version {v})")
    if sig.get("kind") not in KINDS or not isinstance(sig.get("inputs"), dict):
        raise DataError(f"{f}: field 'kind'/'inputs' missing or malformed")
    return sig


def load_exported(path):
    """(signature, callable) of an exported model; the callable takes the inputs in the
    signature's order."""
    path = Path(path)
    sig = read_signature(path)
    f = path / "model.stablehlo"
    if not f.exists():
        raise DataError(f"{path}: model.stablehlo is missing")
    try:
        exp = jax.export.deserialize(bytearray(f.read_bytes()))
    except Exception as e:  # a corrupted artifact fails inside the deserializer in many ways
        raise DataError(f"{f}: not a readable jax.export artifact ({type(e).__name__}: {str(e)[:200]})") from None
    return sig, exp.call


def named_outputs(path, out) -> dict:
    """An exported model's outputs as ``{name: array}`` under the names of its signature's
    ``outputs`` (nested outputs joined with '_', e.g. ``outputs_refined``)."""
    spec = read_signature(path)["outputs"]

    def flatten(spec, value, prefix=""):
        if not (isinstance(spec, dict) and "shape" not in spec):
            return {prefix.rstrip("_"): np.asarray(value)}
        values = [value[k] for k in spec] if isinstance(value, dict) else list(value)
        out = {}
        for (name, sub), val in zip(spec.items(), values):
            out.update(flatten(sub, val, f"{prefix}{name}_"))
        return out

    if len(spec) == 1 and not isinstance(out, (list, tuple, dict)):
        return {next(iter(spec)): np.asarray(out)}
    return flatten(spec, out)


def run_exported(path, inputs: dict):
    """Run an exported model on named input arrays; checks names and shapes against the signature.

    Args:
        path: a folder written by ``export_model``.
        inputs: input name -> array, as ``signature.json`` lists them.

    Returns:
        The exported function's outputs (arrays, as the model returns them).

    Raises:
        DataError: a missing or wrongly shaped input; a damaged or newer artifact.
    """
    sig, call = load_exported(path)
    args = []
    for name, spec in sig["inputs"].items():
        if name not in inputs:
            raise DataError(f"input: field {name!r} is missing; the model takes {list(sig['inputs'])}")
        a = np.asarray(inputs[name], spec["dtype"])
        want = spec["shape"]
        if a.ndim != len(want) or any(w != "b" and w != s for w, s in zip(want, a.shape)):
            raise DataError(f"input: field {name!r}: expected shape {want} (b = any batch), got {a.shape}")
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise DataError(f"input: field {name!r}: NaN/inf values")
        args.append(a)
    return call(*args)
