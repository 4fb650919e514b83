//! `tensorflow.serving.ModelService`: the status of a model's versions, and
//! a reload of the served model list without a restart.

use std::sync::Arc;
use std::time::Instant;

use tonic::{Request, Response, Status};

use super::proto::file_system_storage_path_source_config::ServableVersionPolicy;
use super::proto::file_system_storage_path_source_config::servable_version_policy::PolicyChoice;
use super::proto::model_server_config::Config;
use super::proto::model_service_server::ModelService as Service;
use super::proto::model_version_status::State;
use super::proto::tensorflow::error::Code;
use super::proto::{
    GetModelStatusRequest, GetModelStatusResponse, ModelServerConfig, ModelVersionStatus, ReloadConfigRequest,
    ReloadConfigResponse, StatusProto,
};
use super::{model_spec, observed, respond, wanted};
use crate::config::{self, ModelConfig};
use crate::error::Error;
use crate::metrics::Api;
use crate::policy::VersionPolicy;
use crate::registry::Models;
use crate::version::VersionState;

/// The service's state: the models served.
pub(crate) struct ModelService {
    pub(crate) models: Arc<Models>,
}

fn status(request: GetModelStatusRequest, models: &Models) -> Result<GetModelStatusResponse, Error> {
    let spec = model_spec(request.model_spec)?;
    let wanted = wanted(&spec);
    let statuses = models.get(&spec.name, wanted)?.status(wanted)?;
    let model_version_status = statuses
        .into_iter()
        .map(|s| ModelVersionStatus {
            version: i64::try_from(s.version).unwrap_or(i64::MAX),
            state: match s.state {
                VersionState::Loading => State::Loading,
                VersionState::Available => State::Available,
                VersionState::End => State::End,
            }
            .into(),
            status: Some(match s.error {
                None => StatusProto { error_code: Code::Ok.into(), error_message: String::new() },
                Some(e) => StatusProto { error_code: Code::Unknown.into(), error_message: e },
            }),
        })
        .collect();
    Ok(GetModelStatusResponse { model_version_status })
}

/// The models of a reload request's config, checked as a config file's are.
///
/// # Errors
/// [`Error::InvalidConfig`] for a config that is not a `model_config_list`,
/// a model without a name or base path, a name given twice, or a platform
/// other than TensorFlow.
pub(crate) fn models_of(config: Option<ModelServerConfig>) -> Result<Vec<ModelConfig>, Error> {
    let Some(Config::ModelConfigList(list)) = config.and_then(|c| c.config) else {
        return Err(Error::InvalidConfig(
            "ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported"
                .into(),
        ));
    };
    let mut models = Vec::with_capacity(list.config.len());
    for (i, model) in list.config.into_iter().enumerate() {
        let name = model.name.clone();
        config::check_platform(&model.model_platform)
            .and_then(|()| config::model(model.name, model.base_path))
            .and_then(|mut m| {
                m.version_policy = policy(model.model_version_policy);
                m.version_labels = model
                    .version_labels
                    .into_iter()
                    .map(|(label, v)| match u64::try_from(v) {
                        Ok(v) if !label.is_empty() => Ok((label, v)),
                        _ => Err(format!("version_labels {label:?}: {v} is not a version")),
                    })
                    .collect::<Result<_, _>>()?;
                config::add(&mut models, m)
            })
            .map_err(|e| Error::InvalidConfig(format!("config {i} ({name:?}): {e}")))?;
    }
    Ok(models)
}

/// A config's `model_version_policy`; none is TensorFlow Serving's default,
/// the newest version. Negative versions of a `specific` policy name no
/// directory, so they select nothing.
fn policy(proto: Option<ServableVersionPolicy>) -> VersionPolicy {
    match proto.and_then(|p| p.policy_choice) {
        None => VersionPolicy::default(),
        Some(PolicyChoice::Latest(latest)) => VersionPolicy::Latest(latest.num_versions),
        Some(PolicyChoice::All(_)) => VersionPolicy::All,
        Some(PolicyChoice::Specific(specific)) => {
            VersionPolicy::Specific(specific.versions.into_iter().filter_map(|v| u64::try_from(v).ok()).collect())
        }
    }
}

#[tonic::async_trait]
impl Service for ModelService {
    async fn get_model_status(
        &self,
        request: Request<GetModelStatusRequest>,
    ) -> Result<Response<GetModelStatusResponse>, Status> {
        let (started, spec) = (Instant::now(), request.get_ref().model_spec.clone());
        observed(&self.models, Api::GetModelStatus, spec.as_ref(), started, status(request.into_inner(), &self.models))
    }

    async fn handle_reload_config_request(
        &self,
        request: Request<ReloadConfigRequest>,
    ) -> Result<Response<ReloadConfigResponse>, Status> {
        let reloaded = match models_of(request.into_inner().config) {
            Err(e) => Err(e),
            Ok(configs) => {
                // Loading new models reads and compiles: off the executor.
                let models = Arc::clone(&self.models);
                tokio::task::spawn_blocking(move || models.reload(&configs))
                    .await
                    .unwrap_or_else(|e| Err(Error::Interrupted { what: "the reload", reason: e.to_string() }))
            }
        };
        let ok = StatusProto { error_code: Code::Ok.into(), error_message: String::new() };
        respond("HandleReloadConfigRequest", reloaded.map(|()| ReloadConfigResponse { status: Some(ok) }))
    }
}
