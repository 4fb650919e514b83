"""Type stubs of the extension module (``estimator_rs._native``)."""

import os
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np

__version__: str

class PredictorError(Exception):
    """A model that cannot be loaded (missing, truncated or corrupted files,
    an unsupported op) or a call that fails in a kernel."""

class TensorInfo:
    """A signature's input or output."""

    @property
    def name(self) -> str:
        """The graph tensor it binds to (``serving_default_x:0``)."""
    @property
    def dtype(self) -> str:
        """The numpy dtype's name (``float32``, ``int64``, ``bool``, ``object`` for strings)."""
    @property
    def shape(self) -> list[Optional[int]]:
        """The dims; ``None`` varies per call."""

class Session:
    """A predictor with output buffers of its own, for a hot loop on one thread."""

    def run(
        self, feed: Mapping[str, Any], fetches: Optional[Sequence[str]] = None
    ) -> dict[str, np.ndarray]:
        """The outputs named by ``fetches`` (all when ``None``)."""
    def __call__(self, feed: Mapping[str, Any]) -> dict[str, np.ndarray]: ...

class Predictor:
    """A SavedModel's signature, loaded once.

    >>> predict_fn = from_saved_model(export_dir)
    >>> predict_fn({"number": [[101.0]]})["output"]
    array([[202.]], dtype=float32)
    """

    def __call__(self, feed: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Runs the signature. KeyError for a missing or unknown key,
        TypeError for a dtype, ValueError for a shape, PredictorError for a
        failed kernel."""
    @property
    def feed_tensors(self) -> dict[str, TensorInfo]: ...
    @property
    def fetch_tensors(self) -> dict[str, TensorInfo]: ...
    @property
    def signature_def_key(self) -> str: ...
    @property
    def signatures(self) -> dict[str, dict[str, Any]]: ...
    @property
    def version(self) -> Optional[int]: ...
    def session(self) -> Session: ...

def from_saved_model(
    export_dir: Union[str, os.PathLike[str]],
    signature_def_key: Optional[str] = None,
    tags: Union[str, Sequence[str], None] = None,
    config: Optional[Mapping[str, Any]] = None,
) -> Predictor:
    """Loads the SavedModel in ``export_dir`` (ours or TensorFlow's)."""

def from_export_base(
    export_base: Union[str, os.PathLike[str]],
    signature_def_key: Optional[str] = None,
    tags: Union[str, Sequence[str], None] = None,
    config: Optional[Mapping[str, Any]] = None,
) -> Predictor:
    """Loads the newest numeric version under ``export_base``."""
