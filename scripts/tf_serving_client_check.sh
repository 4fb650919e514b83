#!/usr/bin/env bash
# TensorFlow Serving's own Python client against our server over gRPC: makes
# a virtualenv (under target/, kept between runs) with tensorflow-serving-api
# 2.15 and the TensorFlow it was built with (2.15, pinned: a newer one breaks
# its status_pb2; some 600 MB, too heavy for CI, so scripts/test.sh does not
# call this), trains and exports the toy, starts the server on loopback, and
# runs Predict, GetModelMetadata and GetModelStatus (and an unknown model)
# through TF Serving's stubs (prediction_service_pb2_grpc,
# model_service_pb2_grpc), printing the answers.
#
#   bash scripts/tf_serving_client_check.sh [port]
set -euo pipefail
cd "$(dirname "$0")/.."
port=${1:-8520}
venv=target/tf-serving-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import tensorflow_serving.apis.get_model_status_pb2, grpc" 2>/dev/null ||
  "$venv/bin/pip" install -q "tensorflow-serving-api==2.15.*" "tensorflow==2.15.*"
cargo build -q --release -p serving -p estimator --example train

work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT
./target/release/examples/train --model-dir "$work/model" --export-dir "$work/saved_model" >/dev/null 2>&1
./target/release/serving --model_name toy --model_base_path "$work/saved_model" \
  --host 127.0.0.1 --port "$port" > "$work/server.log" 2>&1 &
server=$!

TF_CPP_MIN_LOG_LEVEL=2 "$venv/bin/python" - "$port" <<'PY'
import sys

import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2, model_service_pb2_grpc,
                                     predict_pb2, prediction_service_pb2_grpc)

channel = grpc.insecure_channel(f"127.0.0.1:{sys.argv[1]}")
grpc.channel_ready_future(channel).result(timeout=30)
prediction = prediction_service_pb2_grpc.PredictionServiceStub(channel)
models = model_service_pb2_grpc.ModelServiceStub(channel)

request = predict_pb2.PredictRequest()
request.model_spec.name = "toy"
request.model_spec.signature_name = "serving_default"
request.inputs["number"].CopyFrom(tf.make_tensor_proto(np.array([[101.0], [7.0]], dtype=np.float32)))
answer = prediction.Predict(request, timeout=10)
print("== Predict\n", answer, sep="")
y = tf.make_ndarray(answer.outputs["output"])
assert y.shape == (2, 1) and abs(y[0, 0] - 202.0) < 0.5 and abs(y[1, 0] - 14.0) < 0.5, y
assert abs(answer.outputs["output"].float_val[0] - 202.0) < 0.5, "float_val, as TF Serving answers"

request = get_model_metadata_pb2.GetModelMetadataRequest()
request.model_spec.name = "toy"
request.metadata_field.append("signature_def")
answer = prediction.GetModelMetadata(request, timeout=10)
signatures = get_model_metadata_pb2.SignatureDefMap()
assert answer.metadata["signature_def"].Unpack(signatures), answer.metadata["signature_def"].type_url
print("== GetModelMetadata\nmodel_spec", answer.model_spec, signatures, sep="\n")
assert signatures.signature_def["serving_default"].inputs["number"].dtype == tf.float32.as_datatype_enum

request = get_model_status_pb2.GetModelStatusRequest()
request.model_spec.name = "toy"
answer = models.GetModelStatus(request, timeout=10)
print("== GetModelStatus\n", answer, sep="")
assert [s.state for s in answer.model_version_status] == [get_model_status_pb2.ModelVersionStatus.AVAILABLE]

request = predict_pb2.PredictRequest()
request.model_spec.name = "other"
request.inputs["number"].CopyFrom(tf.make_tensor_proto(np.array([[1.0]], dtype=np.float32)))
try:
    prediction.Predict(request, timeout=10)
    raise AssertionError("an unknown model was answered")
except grpc.RpcError as e:
    print("== Predict on an unknown model\n", e.code(), ": ", e.details(), sep="")
    assert e.code() == grpc.StatusCode.NOT_FOUND
print("TensorFlow Serving's Python client: Predict, GetModelMetadata, GetModelStatus and NOT_FOUND as expected")
PY
