//! `tensorflow.serving.PredictionService`: Predict and GetModelMetadata
//! served; Classify and Regress (tf.Example inputs) and MultiInference
//! answered UNIMPLEMENTED once the model is found.

use std::sync::Arc;
use std::time::Instant;

use prost::Message;
use tonic::{Request, Response, Status};

use super::proto::prediction_service_server::PredictionService;
use super::proto::{
    ClassificationRequest, ClassificationResponse, GetModelMetadataRequest, GetModelMetadataResponse,
    MultiInferenceRequest, MultiInferenceResponse, PredictRequest, PredictResponse, RegressionRequest,
    RegressionResponse, SIGNATURE_DEF_MAP_TYPE_URL, SignatureDef, SignatureDefMap, TensorInfo,
};
use super::tensor::{self, TensorEncoding};
use super::{answered, model_spec, observed, respond, wanted};
use crate::error::Error;
use crate::metrics::Api;
use crate::model::Loaded;
use crate::registry::Models;

/// What tf.Example inputs need, which the server does not have yet.
const NO_EXAMPLES: &str = "the server does not parse tf.Example inputs yet; call Predict with the signature's tensors";

/// The service's state: the models served and how outputs are written.
pub(crate) struct Prediction {
    pub(crate) models: Arc<Models>,
    pub(crate) encoding: TensorEncoding,
}

impl Prediction {
    async fn predict(&self, request: PredictRequest) -> Result<PredictResponse, Error> {
        let spec = model_spec(request.model_spec)?;
        let (model, loaded) = self.models.serving(&spec.name, wanted(&spec))?;
        let predictor = loaded.predictor(&spec.signature_name)?;
        let inputs = tensor::decode_inputs(predictor, request.inputs)?;
        let outputs = self.models.predict(&loaded, &spec.signature_name, inputs).await?;
        if let Some(key) = request.output_filter.iter().find(|k| outputs.get(k).is_none()) {
            return Err(Error::UnknownOutput {
                key: key.clone(),
                expected: outputs.keys().map(str::to_owned).collect(),
            });
        }
        let outputs = outputs
            .iter()
            .filter(|(key, _)| request.output_filter.is_empty() || request.output_filter.iter().any(|k| k == key))
            .map(|(key, t)| (key.to_owned(), tensor::encode(t, self.encoding)))
            .collect();
        Ok(PredictResponse {
            model_spec: Some(answered(&model.name, loaded.version, predictor.signature_name())),
            outputs,
        })
    }

    fn metadata(&self, request: GetModelMetadataRequest) -> Result<GetModelMetadataResponse, Error> {
        let spec = model_spec(request.model_spec)?;
        if request.metadata_field.is_empty() {
            return Err(Error::BadRequest("GetModelMetadataRequest must specify at least one metadata_field".into()));
        }
        if let Some(field) = request.metadata_field.iter().find(|f| *f != "signature_def") {
            return Err(Error::BadRequest(format!(
                "Metadata field {field} is not supported; the supported field is signature_def"
            )));
        }
        let (model, loaded) = self.models.serving(&spec.name, wanted(&spec))?;
        let any = prost_types::Any {
            type_url: SIGNATURE_DEF_MAP_TYPE_URL.into(),
            value: signature_defs(&loaded).encode_to_vec(),
        };
        Ok(GetModelMetadataResponse {
            model_spec: Some(answered(&model.name, loaded.version, "")),
            metadata: [("signature_def".to_owned(), any)].into_iter().collect(),
        })
    }

    /// The model of a Classify or Regress request is looked up (NOT_FOUND
    /// as for Predict), then the call is UNIMPLEMENTED.
    fn examples(&self, api: &'static str, spec: Option<super::proto::ModelSpec>) -> Error {
        let found = model_spec(spec).and_then(|spec| self.models.serving(&spec.name, wanted(&spec)).map(drop));
        match found {
            Err(e) => e,
            Ok(()) => Error::Unimplemented { api, reason: NO_EXAMPLES },
        }
    }
}

/// Every signature of `loaded` as TensorFlow's `SignatureDefMap`.
fn signature_defs(loaded: &Loaded) -> SignatureDefMap {
    let side = |infos: &std::collections::BTreeMap<String, predictor::TensorInfo>| {
        infos
            .iter()
            .map(|(key, info)| {
                let proto = TensorInfo {
                    name: info.name.clone(),
                    dtype: tensor::proto_dtype(info.dtype).into(),
                    tensor_shape: Some(tensor::proto_shape(info.shape.to_dims())),
                };
                (key.clone(), proto)
            })
            .collect()
    };
    let signature_def = loaded
        .predictors
        .iter()
        .map(|(key, p)| {
            let sig = p.signature();
            let def = SignatureDef {
                inputs: side(&sig.inputs),
                outputs: side(&sig.outputs),
                method_name: sig.method_name.clone(),
            };
            (key.clone(), def)
        })
        .collect();
    SignatureDefMap { signature_def }
}

#[tonic::async_trait]
impl PredictionService for Prediction {
    async fn predict(&self, request: Request<PredictRequest>) -> Result<Response<PredictResponse>, Status> {
        let (started, spec) = (Instant::now(), request.get_ref().model_spec.clone());
        observed(&self.models, Api::Predict, spec.as_ref(), started, self.predict(request.into_inner()).await)
    }

    async fn get_model_metadata(
        &self,
        request: Request<GetModelMetadataRequest>,
    ) -> Result<Response<GetModelMetadataResponse>, Status> {
        let (started, spec) = (Instant::now(), request.get_ref().model_spec.clone());
        observed(&self.models, Api::GetModelMetadata, spec.as_ref(), started, self.metadata(request.into_inner()))
    }

    async fn classify(
        &self,
        request: Request<ClassificationRequest>,
    ) -> Result<Response<ClassificationResponse>, Status> {
        let (started, spec) = (Instant::now(), request.get_ref().model_spec.clone());
        let refused = Err(self.examples("Classify", request.into_inner().model_spec));
        observed(&self.models, Api::Classify, spec.as_ref(), started, refused)
    }

    async fn regress(&self, request: Request<RegressionRequest>) -> Result<Response<RegressionResponse>, Status> {
        let (started, spec) = (Instant::now(), request.get_ref().model_spec.clone());
        let refused = Err(self.examples("Regress", request.into_inner().model_spec));
        observed(&self.models, Api::Regress, spec.as_ref(), started, refused)
    }

    async fn multi_inference(
        &self,
        _request: Request<MultiInferenceRequest>,
    ) -> Result<Response<MultiInferenceResponse>, Status> {
        respond("MultiInference", Err(Error::Unimplemented { api: "MultiInference", reason: NO_EXAMPLES }))
    }
}
