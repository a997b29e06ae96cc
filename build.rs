//! Compiles the Slint UI with its translations bundled into the binary.

use slint_build::{CompilerConfiguration, DefaultTranslationContext};

fn main() {
    // Debug builds (and so the tests) carry element ids for i-slint-backend-testing's
    // queries; release builds leave them out to stay small.
    let debug = std::env::var("PROFILE").is_ok_and(|p| p == "debug");
    let config = CompilerConfiguration::new()
        .with_bundled_translations("ui/translations")
        .with_default_translation_context(DefaultTranslationContext::None)
        .with_debug_info(debug);
    if let Err(e) = slint_build::compile_with_config("ui/app.slint", config) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
