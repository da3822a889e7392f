"""Strobe's v2 default model (issue 22): a latent model at 512². Stage 1 is the convolutional
autoencoder (`autoencoder.py`), trained by `train_autoencoder.py` on crops of cached renders
(`data.py`) and measured by `metrics.py` (PSNR and grid seams). docs/training-v2.md has the plan.
"""
