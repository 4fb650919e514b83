"""Per-call time from Python on the write-up's toy model, the Python side
included (a dict in, a dict of numpy arrays out): our predictor on
TensorFlow's own export of the toy, TensorFlow 2.15's SavedModel signature
call on the same export (when TensorFlow is importable), and the same math
written with numpy, in one run. Medians of 7 repeats.

    python crates/python/bench/bench_toy.py [export_dir]
"""

import statistics
import sys
import timeit
from pathlib import Path

import numpy as np

from estimator_rs import predictor

REPO = Path(__file__).resolve().parents[3]
export = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "tests" / "fixtures" / "tensorflow" / "estimator_toy"
version = sorted(p for p in export.iterdir() if p.name.isdigit())[-1]


def per_call(f, number):
    runs = timeit.repeat(f, number=number, repeat=7)
    return statistics.median(runs) / number


predict_fn = predictor.from_saved_model(version)
feed = {"number": np.array([[101.0]], dtype=np.float32)}
ours = per_call(lambda: predict_fn(feed)["output"], 100_000)
ours_list = per_call(lambda: predict_fn({"number": [[101.0]]})["output"], 100_000)

# The same math in numpy: tile [?, 1] to [?, 2], @ kernel + bias.
kernel = np.array([[1.0], [1.0]], dtype=np.float32)
bias = np.zeros(1, dtype=np.float32)
numpy_math = per_call(lambda: {"output": np.tile(feed["number"], (1, 2)) @ kernel + bias}["output"], 100_000)

print(f"estimator_rs predictor, numpy array in: {ours * 1e6:.2f} us per call")
print(f"estimator_rs predictor, nested list in: {ours_list * 1e6:.2f} us per call")
print(f"numpy, the same math:                   {numpy_math * 1e6:.2f} us per call")
try:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(version))
    signature = loaded.signatures["serving_default"]
    tensor = tf.constant(feed["number"])
    tf_call = per_call(lambda: signature(number=tensor)["output"].numpy(), 2_000)
    print(f"TensorFlow {tf.__version__} signature call: {tf_call * 1e6:.1f} us per call ({tf_call / ours:.0f}x ours)")
except ImportError:
    print("TensorFlow: not installed in this environment")
