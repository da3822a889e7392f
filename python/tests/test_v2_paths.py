"""The v2 training's state folder lies outside the checkout and follows the environment."""
import os

from strobe_training.v2.paths import training_dir


def test_state_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("STROBE_TRAINING_DIR", str(tmp_path / "state"))
    assert training_dir("v2-ae", "ae.ckpt") == str(tmp_path / "state" / "v2-ae" / "ae.ckpt")
    monkeypatch.delenv("STROBE_TRAINING_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert training_dir("v2-dit") == str(tmp_path / "data" / "strobe" / "training" / "v2-dit")
    monkeypatch.delenv("XDG_DATA_HOME")
    assert training_dir() == os.path.join(os.path.expanduser("~"), ".local", "share", "strobe", "training")


def test_trainers_default_to_it(monkeypatch, tmp_path):
    monkeypatch.setenv("STROBE_TRAINING_DIR", str(tmp_path))
    from strobe_training.v2 import latents, train_autoencoder, train_dit
    assert train_autoencoder.parser().get_default("workdir") == str(tmp_path / "v2-ae")
    assert train_autoencoder.parser().get_default("data") == str(tmp_path / "v2-ae-renders")
    assert latents.parser().get_default("ae") == str(tmp_path / "v2-ae" / "ae.ckpt")
    assert latents.parser().get_default("out") == str(tmp_path / "v2-latents")
    assert train_dit.parser().get_default("workdir") == str(tmp_path / "v2-dit")
    assert train_dit.parser().get_default("latents") == str(tmp_path / "v2-latents")
