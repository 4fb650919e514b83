//! Prints what an artifact (ours or TensorFlow's) holds: format, signatures, nodes.
//!
//! ```text
//! cargo run -p tf-import --example inspect -- tests/fixtures/tensorflow/estimator_toy/1700000000
//! ```

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: inspect VERSION_DIR")?;
    let bytes = std::fs::read(Path::new(&dir).join(export::SAVED_MODEL_FILE))?;
    let artifact =
        if tf_import::is_tensorflow(&bytes) { tf_import::open(&dir)? } else { export::Artifact::open(&dir)? };
    println!("{} in {dir}", artifact.format());
    for meta in &artifact.model().meta_graphs {
        println!("tags {:?}", meta.tags);
        for (key, sig) in &meta.signatures {
            println!("signature {key}: {sig:?}");
        }
        for node in &meta.graph.nodes {
            println!("  {} = {}({})", node.name, node.op, node.inputs.join(", "));
        }
    }
    for name in artifact.variables().names() {
        println!("variable {name}: {:?}", artifact.variables().spec(name));
    }
    artifact.typed_graph(&["serve"])?;
    println!("graph valid");
    Ok(())
}
