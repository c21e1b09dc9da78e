"""luodi (落地): a full-chain technology-transfer platform — 清单 → 推送 → 对接 → 落地."""

__version__ = "0.1.0"
