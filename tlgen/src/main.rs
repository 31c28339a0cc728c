//! `tlgen SCHEMA.tl [--skip-undefined] [--opaque-undefined] [--generic-functions]
//! [--function-enum]`: prints the Rust code generated for a TL schema, the same code the
//! build scripts of `secretchat-common` and `secretchat-mtproto` compile, so a reader can
//! look at it (the MTProto API layers use the last three flags).

use std::process::ExitCode;

const USAGE: &str = "usage: tlgen SCHEMA.tl [--skip-undefined] [--opaque-undefined] \
    [--generic-functions] [--function-enum]";

fn main() -> ExitCode {
    let mut path = None;
    let mut options = secretchat_tlgen::Options::default();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--skip-undefined" => options.skip_undefined_types = true,
            "--opaque-undefined" => options.opaque_undefined_types = true,
            "--generic-functions" => options.generic_functions = true,
            "--function-enum" => options.function_enum = true,
            "-h" | "--help" => {
                println!("{USAGE}");
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
        eprintln!("{USAGE}");
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
