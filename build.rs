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
    // RELR (`-z pack-relative-relocs`): a position-independent executable carries one
    // relocation per pointer in its data, ~500 kB of `.rela.dyn` here; RELR packs the
    // relative ones into a bitmap of a few kB, keeping PIE and ASLR. The kiosk binary's size
    // budget needs it. Requires binutils >= 2.38 and glibc >= 2.36 (Debian 12 has both; an
    // older glibc refuses the binary with a clear "GLIBC_ABI_DT_RELR not found").
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if target_os == "linux" && target_env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    if let Err(e) = slint_build::compile_with_config("ui/app.slint", config) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
