//! `tlgen SCHEMA.tl [--skip-undefined]`: prints the Rust code generated for a TL schema, the
//! same code `secretchat-common`'s build script compiles, so a reader can look at it.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut path = None;
    let mut options = secretchat_tlgen::Options::default();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--skip-undefined" => options.skip_undefined_types = true,
            "-h" | "--help" => {
                println!("usage: tlgen SCHEMA.tl [--skip-undefined]");
                return ExitCode::SUCCESS;
            }
            _ if path.is_none() => path = Some(arg),
            _ => {
                eprintln!("tlgen: unexpected argument `{arg}`");
                return ExitCode::FAILURE;
            }
        }
    }
    let Some(path) = path else {
        eprintln!("usage: tlgen SCHEMA.tl [--skip-undefined]");
        return ExitCode::FAILURE;
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("tlgen: cannot read {path}: {err}");
            return ExitCode::FAILURE;
        }
    };
    options.source_name = std::path::Path::new(&path)
        .file_name()
        .map_or(path.clone(), |name| name.to_string_lossy().into_owned());
    match secretchat_tlgen::generate_from_text(&text, &options) {
        Ok(code) => {
            let code = secretchat_tlgen::format_with_rustfmt(&code).unwrap_or(code);
            print!("{code}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("tlgen: {path}: {err}");
            ExitCode::FAILURE
        }
    }
}
