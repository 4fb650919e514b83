"""The Python predictor against the Rust predictor's answers (the toy, the
text classifier) and TensorFlow's (its own exports), every bad input, and
threads."""

import json
import shutil
import threading

import numpy as np
import pytest

import estimator_rs
from estimator_rs import predictor

from conftest import FIXTURES


def test_the_write_ups_reader_runs_unchanged_but_for_the_import(work):
    predict_fn = predictor.from_export_base(work / "toy" / "saved_model")
    expected = np.load(work / "toy" / "answers" / "output.npy")
    got = predict_fn({"number": [[101.0]]})["output"]
    assert got.dtype == np.float32 and got.shape == (1, 1)
    np.testing.assert_array_equal(got, expected)
    # Lists, scalars in lists, numpy arrays of another float width, ints: TensorFlow's feeding rules.
    for feed in ([[101]], np.array([[101.0]]), np.array([[101.0]], dtype=np.float32)):
        np.testing.assert_array_equal(predict_fn({"number": feed})["output"], expected)
    assert isinstance(predict_fn.version, int)
    assert predict_fn.signature_def_key == "serving_default"
    assert list(predict_fn.feed_tensors) == ["number"]
    info = predict_fn.feed_tensors["number"]
    assert (info.dtype, info.shape) == ("float32", [None, 1])
    assert list(predict_fn.fetch_tensors) == ["output"]
    assert "serving_default" in predict_fn.signatures
    assert "from_saved_model" in predictor.__doc__ and "from_saved_model" in estimator_rs.__doc__


def test_a_batch_and_the_loaded_directory_itself(work):
    version = sorted(p for p in (work / "toy" / "saved_model").iterdir() if p.name.isdigit())[-1]
    predict_fn = predictor.from_saved_model(str(version), signature_def_key="serving_default", tags="serve")
    out = predict_fn({"number": np.arange(100, 110, dtype=np.float32).reshape(10, 1)})["output"]
    assert out.shape == (10, 1)
    np.testing.assert_allclose(out[:, 0], 2.0 * np.arange(100, 110), rtol=1e-3)
    # Non-contiguous input: a column of a wider array.
    wide = np.stack([np.arange(100, 110, dtype=np.float32)] * 3, axis=1)
    np.testing.assert_array_equal(predict_fn({"number": wide[:, 1:2]})["output"], out)


def test_string_inputs_give_the_rust_predictors_answers(work):
    predict_fn = predictor.from_export_base(work / "text" / "text_model" / "saved_model")
    words = [["tennis", "really", "great", "", "", ""], ["spicy", "zorblax", "soup", "", "", ""]]
    out = predict_fn({"words": words})
    np.testing.assert_array_equal(out["classes"], np.load(work / "text" / "answers" / "classes.npy"))
    np.testing.assert_allclose(out["probabilities"], np.load(work / "text" / "answers" / "probabilities.npy"), rtol=1e-6)
    # bytes, and a numpy array of str, are strings too.
    as_bytes = [[w.encode() for w in row] for row in words]
    np.testing.assert_array_equal(predict_fn({"words": as_bytes})["classes"], out["classes"])
    np.testing.assert_array_equal(predict_fn({"words": np.array(words)})["classes"], out["classes"])
    # Strings are bytes, as TensorFlow's: bytes that are not UTF-8 are an
    # unknown word (an out-of-vocabulary bucket), not an error.
    raw = [[b"\xff\xfe", b"really", b"great", b"", b"", b""]]
    assert predict_fn({"words": raw})["classes"].shape == (1,)


@pytest.mark.parametrize(
    "fixture", ["tf_function_mlp", "keras_string_lookup", "tf1_vocab_table", "estimator_dnn_classifier", "tf1_dynamic_rnn"]
)
def test_tensorflow_exports_answer_what_tensorflow_computed(fixture):
    expected = json.loads((FIXTURES / fixture / "expected.json").read_text())
    predict_fn = predictor.from_saved_model(FIXTURES / fixture / "1700000000", signature_def_key=expected["signature"])
    dtypes = {key: info.dtype for key, info in predict_fn.feed_tensors.items()}
    for case in expected["cases"]:
        out = predict_fn(case["inputs"])
        # The same inputs as numpy arrays of the inputs' dtypes: read in place.
        arrays = {k: np.asarray(v, dtype=dtypes[k]) for k, v in case["inputs"].items() if dtypes[k] != "object"}
        if arrays:
            again = predict_fn({**case["inputs"], **arrays})
            for key in out:
                np.testing.assert_array_equal(again[key], out[key], err_msg=key)
        for key, want in case["outputs"].items():
            got = out[key]
            if got.dtype == object:
                assert [v.decode() for v in got.ravel()] == list(np.array(want).ravel()), key
            else:
                np.testing.assert_allclose(got, np.array(want), rtol=1e-5, atol=1e-5, err_msg=key)


def test_string_outputs_are_bytes_as_tensorflow_returns_them():
    fixture = FIXTURES / "estimator_dnn_classifier"
    case = json.loads((fixture / "expected.json").read_text())["cases"][0]
    out = predictor.from_saved_model(fixture / "1700000000", signature_def_key="predict")(case["inputs"])
    assert out["classes"].dtype == object
    assert all(isinstance(c, bytes) for c in out["classes"].ravel())
    assert out["class_ids"].dtype == np.int64


def test_bad_inputs_raise_the_python_exception_of_their_kind(work):
    predict_fn = predictor.from_export_base(work / "toy" / "saved_model")
    with pytest.raises(KeyError, match="numbr"):
        predict_fn({"numbr": [[1.0]]})
    with pytest.raises(KeyError, match="missing"):
        predict_fn({})
    with pytest.raises(TypeError, match="number"):
        predict_fn({"number": [["one"]]})
    with pytest.raises(TypeError, match="keys"):
        predict_fn({3: [[1.0]]})
    with pytest.raises(ValueError, match="shape"):
        predict_fn({"number": [1.0, 2.0]})
    with pytest.raises(ValueError, match="shape"):
        predict_fn({"number": [[1.0, 2.0]]})
    with pytest.raises(ValueError):
        predict_fn({"number": [[1.0], [2.0, 3.0]]})
    text = predictor.from_export_base(work / "text" / "text_model" / "saved_model")
    with pytest.raises(TypeError, match="str or bytes"):
        text({"words": [[1, 2, 3, 4, 5, 6]]})
    # An int input refuses floats (a same-kind cast only).
    rnn = predictor.from_saved_model(FIXTURES / "tf1_dynamic_rnn" / "1700000000")
    with pytest.raises(TypeError, match="lengths"):
        rnn({"x": [[[0.0, 0.0, 0.0]]], "lengths": [1.5]})
    with pytest.raises(ValueError, match="threads"):
        predictor.from_export_base(work / "toy" / "saved_model", config={"thread": 2})


def test_bad_exports_raise_predictor_error_naming_the_file(work, tmp_path):
    with pytest.raises(estimator_rs.PredictorError):
        predictor.from_saved_model(tmp_path / "nowhere")
    with pytest.raises(estimator_rs.PredictorError, match="signature"):
        predictor.from_export_base(work / "toy" / "saved_model", signature_def_key="nope")
    version = sorted(p for p in (work / "toy" / "saved_model").iterdir() if p.name.isdigit())[-1]
    broken = tmp_path / "1"
    shutil.copytree(version, broken)
    data = broken / "variables" / "variables.data"
    data.write_bytes(data.read_bytes()[:-8])
    with pytest.raises(estimator_rs.PredictorError, match="variables"):
        predictor.from_saved_model(broken)
    (broken / "saved_model.pb").write_bytes(b"\x00garbage")
    with pytest.raises(estimator_rs.PredictorError):
        predictor.from_saved_model(broken)


def test_one_predictor_serves_many_threads(work):
    predict_fn = predictor.from_export_base(work / "toy" / "saved_model")
    expected = {nb: predict_fn({"number": [[nb]]})["output"][0, 0] for nb in range(8)}
    failures = []

    def worker(nb):
        for _ in range(200):
            got = predict_fn({"number": [[nb]]})["output"][0, 0]
            if got != expected[nb]:
                failures.append((nb, got))

    threads = [threading.Thread(target=worker, args=(nb,)) for nb in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_a_session_reuses_its_buffers_and_fetches_what_is_asked(work):
    predict_fn = predictor.from_export_base(work / "text" / "text_model" / "saved_model")
    session = predict_fn.session()
    words = [["pizza", "pasta", "", "", "", ""]]
    first = session.run({"words": words})
    again = session.run({"words": [["laptop", "chip", "", "", "", ""]]}, fetches=["classes"])
    assert list(again) == ["classes"]
    assert first["classes"][0] != again["classes"][0], "the first answer is a copy, not the reused buffer"
    np.testing.assert_array_equal(session({"words": words})["classes"], first["classes"])
    with pytest.raises(KeyError, match="class"):
        session.run({"words": words}, fetches=["class"])
