//! Which checkpoint key holds each variable. TensorFlow restores variables
//! by running the restore op: `RestoreV2` reads the tensors named by its
//! `tensor_names` constant, and an `AssignVariableOp` (or `Assign`) writes
//! each into a variable, directly in a TF1 graph, or inside a restore
//! function in a TF2 one (where the variable arrives as a function argument
//! from the caller's inputs). Reading that wiring gives the mapping, for
//! both, exactly as TensorFlow applies it.

use std::collections::HashMap;

use crate::pb;

/// Top-level variable node name (`VarHandleOp` / `VariableV2`) -> checkpoint key.
pub(crate) fn checkpoint_keys(graph: &pb::GraphDef) -> HashMap<String, String> {
    let mut keys = HashMap::new();
    let callers: Vec<&pb::NodeDef> = graph.node.iter().filter(|n| function_of(n).is_some()).collect();
    // TF1: the restore wiring is in the top-level graph.
    for (resource, key) in assignments(&graph.node, &[]) {
        keys.insert(resource, key);
    }
    // TF2: inside functions, resources are arguments; map them to callers' inputs.
    for f in graph.library.iter().flat_map(|l| &l.function) {
        let Some(sig) = &f.signature else { continue };
        let args: Vec<&str> = sig.input_arg.iter().map(|a| a.name.as_str()).collect();
        for (arg, key) in assignments(&f.node_def, &args) {
            let Some(j) = args.iter().position(|a| *a == arg) else { continue };
            for caller in callers.iter().filter(|c| function_of(c) == Some(sig.name.as_str())) {
                if let Some(input) = caller.input.get(j) {
                    keys.entry(node_name(input).to_owned()).or_insert_with(|| key.clone());
                }
            }
        }
    }
    keys
}

/// The function a call node invokes.
pub(crate) fn function_of(node: &pb::NodeDef) -> Option<&str> {
    if !matches!(node.op.as_str(), "StatefulPartitionedCall" | "PartitionedCall") {
        return None;
    }
    match node.attr.get("f")?.value.as_ref()? {
        pb::attr_value::Value::Func(f) => Some(&f.name),
        _ => None,
    }
}

/// The node part of a tensor reference (`node`, `node:1`, `node:out:0`, `^node`).
pub(crate) fn node_name(reference: &str) -> &str {
    let r = reference.strip_prefix('^').unwrap_or(reference);
    r.split(':').next().unwrap_or(r)
}

/// The output index of a tensor reference (`node:1`, `node:out:1`).
pub(crate) fn output_index(reference: &str) -> usize {
    reference.rsplit(':').next().filter(|_| reference.contains(':')).and_then(|i| i.parse().ok()).unwrap_or(0)
}

/// (resource, key) for each assignment fed by a `RestoreV2` output, among
/// `nodes`; a resource is a node name, or an argument name in `args`.
fn assignments(nodes: &[pb::NodeDef], args: &[&str]) -> Vec<(String, String)> {
    let by_name: HashMap<&str, &pb::NodeDef> = nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut found = Vec::new();
    for node in nodes.iter().filter(|n| matches!(n.op.as_str(), "AssignVariableOp" | "Assign")) {
        let (Some(resource), Some(value)) = (node.input.first(), node.input.get(1)) else { continue };
        // Follow the value through Identity nodes to a RestoreV2 output.
        let mut reference = value.as_str();
        let mut hops = 0;
        let key = loop {
            hops += 1;
            let Some(n) = by_name.get(node_name(reference)) else { break None };
            match n.op.as_str() {
                "Identity" if hops < 64 => reference = n.input.first().map_or("", String::as_str),
                "RestoreV2" => break restored_name(&by_name, n, output_index(reference)),
                _ => break None,
            }
        };
        let resource = node_name(resource);
        if let Some(key) = key
            && (by_name.contains_key(resource) || args.contains(&resource))
        {
            found.push((resource.to_owned(), key));
        }
    }
    found
}

/// The `i`-th name in a `RestoreV2`'s `tensor_names` constant.
fn restored_name(by_name: &HashMap<&str, &pb::NodeDef>, restore: &pb::NodeDef, i: usize) -> Option<String> {
    let names = by_name.get(node_name(restore.input.get(1)?))?;
    let pb::attr_value::Value::Tensor(t) = names.attr.get("value")?.value.as_ref()? else { return None };
    String::from_utf8(t.string_val.get(i)?.clone()).ok()
}
