//! The Kubernetes manifests and the Dockerfile of `deploy/` against the
//! server's real behaviour: every YAML document parses; the container's
//! flags are the binary's (its `--help`) and start it; the probes' paths
//! answer 200 on the REST port the args give; the Service targets the ports
//! the args give; the image runs the binary this package builds.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const DEPLOY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy");
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/tensorflow/estimator_toy");

/// The YAML files under `dir`, recursively, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(yaml_files(&path));
        } else if matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Every non-empty YAML document under `deploy/`, with its file. Documents
/// are separated by `---` lines.
fn documents() -> Vec<(PathBuf, Value)> {
    let mut documents = Vec::new();
    for file in yaml_files(Path::new(DEPLOY)) {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut chunks = vec![String::new()];
        for line in text.lines() {
            if line.trim_end() == "---" {
                chunks.push(String::new());
            } else if let Some(chunk) = chunks.last_mut() {
                chunk.push_str(line);
                chunk.push('\n');
            }
        }
        for chunk in chunks {
            let value: Value =
                serde_norway::from_str(&chunk).unwrap_or_else(|e| panic!("{}: not YAML: {e}\n{chunk}", file.display()));
            if !value.is_null() {
                documents.push((file.clone(), value));
            }
        }
    }
    documents
}

/// The one document of `kind`.
fn the(kind: &str) -> Value {
    let mut found = documents().into_iter().filter(|(_, d)| d["kind"] == kind);
    let (_, document) = found.next().unwrap_or_else(|| panic!("no {kind} under deploy/"));
    assert!(found.next().is_none(), "more than one {kind} under deploy/");
    document
}

/// The Deployment's server container.
fn container() -> Value {
    let deployment = the("Deployment");
    let containers = deployment["spec"]["template"]["spec"]["containers"].as_array().unwrap().clone();
    assert_eq!(containers.len(), 1, "one container per pod");
    containers[0].clone()
}

/// The container's args as (flag, value): every arg is `--flag=value`.
fn args(container: &Value) -> Vec<(String, String)> {
    let args = container["args"].as_array().expect("the container gives args (the image's ENTRYPOINT is the binary)");
    args.iter()
        .map(|arg| {
            let arg = arg.as_str().unwrap();
            let (flag, value) = arg.strip_prefix("--").and_then(|a| a.split_once('=')).unwrap_or_else(|| {
                panic!("{arg:?}: write container args as --flag=value");
            });
            (flag.to_owned(), value.to_owned())
        })
        .collect()
}

/// The value of `--flag` in the container's args.
fn flag(container: &Value, name: &str) -> String {
    let value = args(container).into_iter().find(|(f, _)| f == name).map(|(_, v)| v);
    value.unwrap_or_else(|| panic!("--{name} not in the Deployment's args"))
}

/// A flag's value as a port number.
fn port_flag(container: &Value, name: &str) -> u64 {
    flag(container, name).parse().unwrap_or_else(|e| panic!("--{name}: {e}"))
}

/// A probe's or a Service's port (a number, or a container port's name)
/// as the container port number it reaches.
fn resolve(container: &Value, port: &Value) -> u64 {
    if let Some(number) = port.as_u64() {
        return number;
    }
    let name = port.as_str().unwrap_or_else(|| panic!("port {port} is neither a number nor a name"));
    let ports = container["ports"].as_array().unwrap();
    let named = ports.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("no container port named {name}"));
    named["containerPort"].as_u64().unwrap()
}

/// The probes of the server container, by kind.
fn probes(container: &Value) -> Vec<(&'static str, Value)> {
    let kinds = ["startupProbe", "readinessProbe", "livenessProbe"];
    kinds.into_iter().filter(|k| !container[k].is_null()).map(|k| (k, container[k].clone())).collect()
}

/// The server, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The binary started with the Deployment's args, on local ports and the
/// fixture model instead of the cluster's.
fn start(container: &Value, rest_port: u16) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_serving"));
    command.arg("--host=127.0.0.1");
    for (name, value) in args(container) {
        let value = match name.as_str() {
            "port" => "0".to_owned(),
            "rest_api_port" => rest_port.to_string(),
            "model_base_path" => FIXTURE.to_owned(),
            _ => value,
        };
        command.arg(format!("--{name}={value}"));
    }
    Server(command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap())
}

/// The status of `GET path` on `127.0.0.1:port`, once the server listens.
fn get_status(port: u16, path: &str) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).unwrap();
            let status = answer.split_whitespace().nth(1).unwrap_or_else(|| panic!("GET {path}: {answer:?}"));
            return status.parse().unwrap();
        }
        assert!(Instant::now() < deadline, "the server did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn every_yaml_document_under_deploy_parses_and_the_kustomization_lists_every_manifest() {
    let documents = documents();
    for (file, document) in &documents {
        for field in ["apiVersion", "kind"] {
            assert!(document[field].is_string(), "{}: no {field}", file.display());
        }
    }
    let kinds: Vec<&str> = documents.iter().map(|(_, d)| d["kind"].as_str().unwrap()).collect();
    for kind in ["Deployment", "Service", "HorizontalPodAutoscaler", "ConfigMap", "Secret", "PersistentVolumeClaim"] {
        assert!(kinds.contains(&kind), "no {kind} under deploy/: {kinds:?}");
    }
    let listed = the("Kustomization")["resources"].as_array().unwrap().clone();
    let mut listed: Vec<&str> = listed.iter().map(|r| r.as_str().unwrap()).collect();
    listed.sort_unstable();
    let manifests: Vec<String> = yaml_files(Path::new(DEPLOY))
        .iter()
        .map(|f| f.strip_prefix(DEPLOY).unwrap().to_str().unwrap().trim_start_matches('/').to_owned())
        .filter(|f| f != "kustomization.yaml")
        .collect();
    assert_eq!(listed, manifests);
}

#[test]
fn every_flag_in_the_container_args_is_in_the_binarys_help() {
    let help = Command::new(env!("CARGO_BIN_EXE_serving")).arg("--help").output().unwrap();
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    let known: Vec<&str> =
        help.split(|c: char| c.is_whitespace() || c == ',').filter(|t| t.starts_with("--")).collect();
    let container = container();
    for (name, _) in args(&container) {
        assert!(known.contains(&format!("--{name}").as_str()), "--{name} is not a flag of the server: {known:?}");
    }
}

#[test]
fn the_probes_paths_answer_200_on_the_rest_port_of_the_args() {
    let container = container();
    let rest = port_flag(&container, "rest_api_port");
    let probes = probes(&container);
    let kinds: Vec<&str> = probes.iter().map(|(k, _)| *k).collect();
    assert!(kinds.contains(&"readinessProbe") && kinds.contains(&"livenessProbe"), "{kinds:?}");
    for (kind, probe) in &probes {
        assert_eq!(resolve(&container, &probe["httpGet"]["port"]), rest, "{kind} is not on --rest_api_port");
    }
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    let port = free_port();
    let _server = start(&container, port);
    for (kind, probe) in &probes {
        let path = probe["httpGet"]["path"].as_str().unwrap();
        assert_eq!(get_status(port, path), 200, "{kind} {path}");
    }
}

#[test]
fn the_service_targets_the_grpc_and_rest_ports_of_the_args() {
    let container = container();
    let service = the("Service");
    let ports = service["spec"]["ports"].as_array().unwrap();
    for (name, flag_name, number) in [("grpc", "port", 8500), ("rest", "rest_api_port", 8501)] {
        let port = ports.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("no Service port {name}"));
        assert_eq!(port["port"], number, "the Service's {name} port");
        assert_eq!(
            resolve(&container, &port["targetPort"]),
            port_flag(&container, flag_name),
            "{name} vs --{flag_name}"
        );
    }
    assert_eq!(ports.len(), 2);
    let labels = &the("Deployment")["spec"]["template"]["metadata"]["labels"];
    for (key, value) in service["spec"]["selector"].as_object().unwrap() {
        assert_eq!(&labels[key], value, "the Service's selector {key} does not select the pods");
    }
}

#[test]
fn the_autoscaler_scales_the_deployment_on_cpu() {
    let hpa = the("HorizontalPodAutoscaler");
    assert_eq!(hpa["apiVersion"], "autoscaling/v2");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "Deployment");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], the("Deployment")["metadata"]["name"]);
    let metric = &hpa["spec"]["metrics"][0]["resource"];
    assert_eq!(metric["name"], "cpu");
    assert!(metric["target"]["averageUtilization"].as_u64().is_some());
    let requests = &container()["resources"]["requests"];
    assert!(requests["cpu"].is_string(), "CPU utilisation needs a CPU request");
}

#[test]
fn the_grace_period_covers_the_prestop_sleep_and_the_longest_rest_request() {
    let container = container();
    let pod = &the("Deployment")["spec"]["template"]["spec"];
    let grace = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
    let sleep = container["lifecycle"]["preStop"]["sleep"]["seconds"].as_u64().unwrap();
    let timeout_ms: u64 = flag(&container, "rest_api_timeout_in_ms").parse().unwrap();
    assert!(timeout_ms > 0, "an unbounded REST request cannot be covered by a grace period");
    assert!(
        grace > sleep + timeout_ms.div_ceil(1000),
        "grace {grace}s <= preStop {sleep}s + REST timeout {timeout_ms}ms"
    );
}

#[test]
fn the_model_base_path_is_on_the_read_only_models_volume() {
    let container = container();
    let base = flag(&container, "model_base_path");
    let mounts = container["volumeMounts"].as_array().unwrap();
    let mount = mounts
        .iter()
        .find(|m| base.starts_with(m["mountPath"].as_str().unwrap()))
        .unwrap_or_else(|| panic!("--model_base_path={base} is on no volume"));
    assert_eq!(mount["readOnly"], true);
    let volumes = the("Deployment")["spec"]["template"]["spec"]["volumes"].as_array().unwrap().clone();
    let volume = volumes.iter().find(|v| v["name"] == mount["name"]).unwrap();
    assert_eq!(volume["persistentVolumeClaim"]["claimName"], the("PersistentVolumeClaim")["metadata"]["name"]);
}

#[test]
fn the_image_runs_the_binary_this_package_builds_and_exposes_the_args_ports() {
    let dockerfile = std::fs::read_to_string(Path::new(DEPLOY).join("Dockerfile")).unwrap();
    let binary = Path::new(env!("CARGO_BIN_EXE_serving")).file_name().unwrap().to_str().unwrap();
    let entrypoint =
        dockerfile.lines().filter_map(|l| l.strip_prefix("ENTRYPOINT ")).next_back().expect("no ENTRYPOINT");
    let entrypoint: Vec<String> = serde_json::from_str(entrypoint).expect("ENTRYPOINT in exec (JSON) form");
    assert_eq!(Path::new(&entrypoint[0]).file_name().unwrap(), binary);
    assert!(dockerfile.contains(&format!("--bin {binary}")), "the build stage does not build {binary}");
    assert!(dockerfile.contains(&format!("target/release/{binary}")), "the build stage does not copy {binary}");
    let container = container();
    let expose = dockerfile.lines().find_map(|l| l.strip_prefix("EXPOSE ")).expect("no EXPOSE");
    let exposed: Vec<u64> = expose.split_whitespace().map(|p| p.parse().unwrap()).collect();
    assert_eq!(exposed, [port_flag(&container, "port"), port_flag(&container, "rest_api_port")]);
    assert!(container["command"].is_null(), "the container must not override the image's ENTRYPOINT");
}
