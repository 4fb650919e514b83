//! `saved_model_cli`: show and run exported models. See `predictor::cli`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = predictor::cli::Cli::parse();
    match predictor::cli::execute(cli, &mut std::io::stdout().lock()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
