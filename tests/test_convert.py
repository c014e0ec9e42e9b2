"""recast.convert: the bundled CTranslate2 tiny.en as an openai-whisper checkpoint."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recast.convert import _float, bundled_model_dir, ctranslate2_to_whisper_state, read_ctranslate2_model
from recast.errors import ConfigError

HAS_WHISPER = importlib.util.find_spec("whisper") is not None and importlib.util.find_spec("torch") is not None
needs_whisper = pytest.mark.skipif(not HAS_WHISPER, reason="torch/openai-whisper not installed (recast[openai-whisper])")


def test_reads_the_bundled_model_bin() -> None:
    spec, variables, aliases = read_ctranslate2_model(bundled_model_dir() / "model.bin")
    assert spec == "WhisperSpec"
    assert variables["decoder/embeddings/weight"].shape == (51864, 384)
    assert variables["decoder/embeddings/weight"].dtype == np.float16
    assert aliases == {"decoder/projection/weight": "decoder/embeddings/weight"}
    assert int(variables["encoder/num_heads"]) == 6


def test_fused_projections_are_split() -> None:
    _, v, _ = read_ctranslate2_model(bundled_model_dir() / "model.bin")
    ck = ctranslate2_to_whisper_state(bundled_model_dir())
    state = ck["model_state_dict"]
    assert ck["dims"] == {
        "n_mels": 80, "n_audio_ctx": 1500, "n_audio_state": 384, "n_audio_head": 6, "n_audio_layer": 4,
        "n_vocab": 51864, "n_text_ctx": 448, "n_text_state": 384, "n_text_head": 6, "n_text_layer": 4,
    }  # fmt: skip
    fused = v["decoder/layer_2/self_attention/linear_0/weight"].astype(np.float32)
    for i, name in enumerate(("query", "key", "value")):
        np.testing.assert_array_equal(state[f"decoder.blocks.2.attn.{name}.weight"], fused[i * 384 : (i + 1) * 384])
    cross = v["decoder/layer_1/attention/linear_1/bias"].astype(np.float32)
    np.testing.assert_array_equal(state["decoder.blocks.1.cross_attn.value.bias"], cross[384:])
    assert not np.any(cross[:384]), "CTranslate2 stores Whisper's absent key bias as zeros"
    assert "decoder.blocks.1.cross_attn.key.bias" not in state
    assert all(a.dtype == np.float32 for a in state.values())
    assert len(state) == 167 and ck["alignment_heads"]


def test_int8_weights_are_dequantised() -> None:
    weight = np.array([[127, -64], [10, 0]], dtype=np.int8)
    scale = np.array([127 / 0.5, 10 / 2.0], dtype=np.float32)  # CTranslate2: int8 = round(w * scale)
    out = _float({"w": weight, "w_scale": scale}, "w")
    np.testing.assert_allclose(out, [[0.5, -64 / 254], [2.0, 0.0]], rtol=1e-6)
    with pytest.raises(ConfigError, match="no scale"):
        _float({"w": weight}, "w")


def test_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"\x06\x00\x00\x00garbage")
    with pytest.raises(ConfigError):
        ctranslate2_to_whisper_state(tmp_path)


@pytest.mark.slow
@needs_whisper
def test_round_trip_matches_ctranslate2(tmp_path: Path) -> None:
    """The converted model's encoder gives CTranslate2's output on the same input, and
    the checkpoint loads with whisper.load_model (the CLI writes it)."""
    import ctranslate2
    import torch
    import whisper

    out = tmp_path / "tiny.en.pt"
    run = subprocess.run([sys.executable, "-m", "recast.convert", str(out)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    model = whisper.load_model(str(out), device="cpu")
    assert model.dims.n_vocab == 51864 and not model.is_multilingual

    t = np.arange(16000 * 5) / 16000
    chirp = (0.3 * np.sin(2 * np.pi * (200 + 300 * t) * t)).astype(np.float32)
    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(chirp), 80)
    with torch.no_grad():
        ours = model.encoder(mel[None]).numpy()
    ct2 = ctranslate2.models.Whisper(str(bundled_model_dir()), device="cpu", compute_type="float32")
    theirs = np.array(ct2.encode(ctranslate2.StorageView.from_array(mel[None].numpy()), to_cpu=True))
    assert ours.shape == theirs.shape == (1, 1500, 384)
    assert np.abs(ours - theirs).max() < 0.05 * np.abs(theirs).max()
    assert np.corrcoef(ours.ravel(), theirs.ravel())[0, 1] > 0.9999


def test_cli_reports_errors(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "recast.convert", str(tmp_path / "x.pt"), "--model-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 1 and "error:" in run.stderr
