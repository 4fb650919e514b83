//! Random numbers: what training draws (dropout masks).

mod random_uniform;
pub use random_uniform::RandomUniform;
