//! Config resolution: profiles, overrides, secrets and the rules that refuse a bad setup.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;

use mitid_flex_tv::ciba::{ClientAuth, Dialect, HintEncoding};
use mitid_flex_tv::config::{
    ConfigError, FileConfig, IdentifierKind, Overrides, PP_AUTHORITY, PP_DEMO_CLIENT_ID,
    PROD_AUTHORITY, ProfileName, Settings, read_file,
};

fn file(toml_text: &str) -> FileConfig {
    toml::from_str(toml_text).unwrap()
}

fn resolve(
    toml_text: &str,
    o: &Overrides,
    env_secret: Option<&str>,
) -> Result<Settings, ConfigError> {
    Settings::resolve(None, file(toml_text), o, env_secret.map(str::to_string))
}

#[test]
fn no_config_means_the_embedded_simulator_with_the_demo_client() {
    let s = resolve("", &Overrides::default(), None).unwrap();
    assert_eq!(s.profile, ProfileName::Simulator);
    assert!(s.is_simulator());
    assert_eq!(s.issuer, None);
    assert_eq!(s.client_id, PP_DEMO_CLIENT_ID);
    assert_eq!(s.kind, IdentifierKind::UserId);
    assert_eq!(s.dialect(), Dialect::Signaturgruppen);
    assert_eq!(s.client_auth, ClientAuth::ClientSecretPost);
    assert_eq!(s.hint_encoding, HintEncoding::Json);
}

#[test]
fn broker_profiles_have_their_authorities() {
    let pp = resolve(
        r#"profile = "signaturgruppen-pp""#,
        &Overrides::default(),
        None,
    )
    .unwrap();
    assert_eq!(pp.issuer.as_deref(), Some(PP_AUTHORITY));
    assert_eq!(pp.kind, IdentifierKind::Uuid);
    let prod = resolve(
        r#"profile = "signaturgruppen-prod"
client_id = "my-client""#,
        &Overrides::default(),
        Some("s3cret"),
    )
    .unwrap();
    assert_eq!(prod.issuer.as_deref(), Some(PROD_AUTHORITY));
    assert_eq!(prod.client_secret.expose(), "s3cret");
}

#[test]
fn production_needs_its_own_client() {
    let e = resolve(
        r#"profile = "signaturgruppen-prod""#,
        &Overrides::default(),
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("client_id"), "{e}");
    let e = resolve(
        "profile = \"signaturgruppen-prod\"\nclient_id = \"x\"",
        &Overrides::default(),
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("secret"), "{e}");
}

#[test]
fn generic_needs_an_issuer_and_a_user_id_kind() {
    assert!(resolve(r#"profile = "generic""#, &Overrides::default(), Some("s")).is_err());
    let ok = "profile = \"generic\"\nissuer = \"https://op.example/\"\nclient_id = \"tv\"";
    let s = resolve(ok, &Overrides::default(), Some("s")).unwrap();
    assert_eq!(
        s.issuer.as_deref(),
        Some("https://op.example"),
        "trailing slash trimmed"
    );
    assert_eq!(s.dialect(), Dialect::Generic);
    let uuid = Overrides {
        kind: Some(IdentifierKind::Uuid),
        ..Overrides::default()
    };
    assert!(resolve(ok, &uuid, Some("s")).is_err());
}

#[test]
fn http_is_only_for_this_machine() {
    for (issuer, ok) in [
        ("http://127.0.0.1:8787/op", true),
        ("http://localhost/op", true),
        ("http://[::1]:9/op", true),
        ("http://10.0.0.5/op", false),
        ("http://op.example/op", false),
        ("ftp://op.example", false),
        ("https://op.example/op", true),
    ] {
        let o = Overrides {
            profile: Some(ProfileName::SignaturgruppenPp),
            issuer: Some(issuer.into()),
            ..Overrides::default()
        };
        assert_eq!(resolve("", &o, None).is_ok(), ok, "{issuer}");
    }
}

#[test]
fn command_line_wins_over_the_file() {
    let o = Overrides {
        profile: Some(ProfileName::SignaturgruppenPp),
        kind: Some(IdentifierKind::Cpr),
        scope: Some("openid".into()),
        client_auth: Some(ClientAuth::ClientSecretBasic),
        hint_encoding: Some(HintEncoding::Base64),
        ..Overrides::default()
    };
    let s = resolve(
        "profile = \"simulator\"\nidentifier_kind = \"uuid\"\nscope = \"openid mitid\"",
        &o,
        None,
    )
    .unwrap();
    assert_eq!(s.profile, ProfileName::SignaturgruppenPp);
    assert_eq!(s.kind, IdentifierKind::Cpr);
    assert_eq!(s.scope, "openid");
    assert_eq!(s.client_auth, ClientAuth::ClientSecretBasic);
    assert_eq!(s.hint_encoding, HintEncoding::Base64);
}

#[test]
fn environment_secret_wins_over_the_file() {
    let t = "profile = \"signaturgruppen-prod\"\nclient_id = \"c\"\nclient_secret = \"from-file\"";
    assert_eq!(
        resolve(t, &Overrides::default(), Some("from-env"))
            .unwrap()
            .client_secret
            .expose(),
        "from-env"
    );
    assert_eq!(
        resolve(t, &Overrides::default(), None)
            .unwrap()
            .client_secret
            .expose(),
        "from-file"
    );
}

#[test]
fn reference_template_rules_are_checked_at_load() {
    assert!(
        resolve(
            r#"reference_template = "Log på {service}""#,
            &Overrides::default(),
            None
        )
        .is_err()
    );
    let long = format!("reference_template = \"{} {{code}}\"", "x".repeat(126));
    assert!(resolve(&long, &Overrides::default(), None).is_err());
    let s = resolve("service_name = \"Stue-TV\"", &Overrides::default(), None).unwrap();
    assert_eq!(s.reference_template, "Log på {service} · kode {code}");
}

#[test]
fn reference_template_per_language() {
    let s = resolve("", &Overrides::default(), None).unwrap();
    assert_eq!(
        s.reference_template_en,
        "Sign in to {service} · code {code}"
    );
    assert_eq!(s.reference_template_for("en"), s.reference_template_en);
    assert_eq!(s.reference_template_for("da"), s.reference_template);
    let s = resolve(
        "reference_template_en = \"Watch {service}: {code}\"",
        &Overrides::default(),
        None,
    )
    .unwrap();
    assert_eq!(s.reference_template_for("en"), "Watch {service}: {code}");
    let err = resolve(
        "reference_template_en = \"Sign in\"",
        &Overrides::default(),
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("reference_template_en"), "{err}");
}

#[test]
fn speech_is_off_unless_asked_for() {
    assert!(!resolve("", &Overrides::default(), None).unwrap().ui.speech);
    let s = resolve("[ui]\nspeech = true", &Overrides::default(), None).unwrap();
    assert!(s.ui.speech);
}

#[test]
fn unknown_keys_and_bad_values_are_errors_not_silence() {
    assert!(toml::from_str::<FileConfig>("clientid = \"typo\"").is_err());
    assert!(toml::from_str::<FileConfig>("[ui]\nfullscren = true").is_err());
    assert!(resolve("client_ip = \"not-an-ip\"", &Overrides::default(), None).is_err());
    assert!(resolve("client_ip = \"192.0.2.7\"", &Overrides::default(), None).is_ok());
}

#[test]
fn secrets_never_show_in_debug() {
    let s = resolve("", &Overrides::default(), None).unwrap();
    let dbg = format!("{s:?}");
    assert!(!dbg.contains(mitid_flex_tv::config::PP_DEMO_CLIENT_SECRET));
    let f = file("client_secret = \"hunter2-from-file\"");
    assert!(
        !format!("{f:?}").contains("hunter2"),
        "the parsed file's Debug hides the secret"
    );
}

#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logged_while(f: impl FnOnce()) -> String {
    let out = Captured::default();
    let sink = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
}

#[test]
fn a_world_readable_file_with_a_secret_is_warned_about_but_loads() {
    use std::os::unix::fs::PermissionsExt;
    let mut f = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        f,
        "profile = \"signaturgruppen-prod\"\nclient_id = \"c\"\nclient_secret = \"x-secret\""
    )
    .unwrap();
    std::fs::set_permissions(f.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let log = logged_while(|| {
        assert_eq!(
            read_file(f.path())
                .unwrap()
                .client_secret
                .as_ref()
                .map(|s| s.expose().to_string())
                .as_deref(),
            Some("x-secret")
        )
    });
    assert!(log.contains("readable by every user"), "{log}");
    assert!(
        !log.contains("x-secret"),
        "the warning must not print the secret"
    );
    std::fs::set_permissions(f.path(), std::fs::Permissions::from_mode(0o640)).unwrap();
    let log = logged_while(|| drop(read_file(f.path()).unwrap()));
    assert!(log.is_empty(), "{log}");
    let e = read_file(std::path::Path::new("/nonexistent/mitid.toml")).unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }));
}

#[test]
fn back_on_start_defaults_to_ignore_only_in_the_kiosk_build() {
    let expected = if cfg!(feature = "kiosk") {
        mitid_flex_tv::config::BackOnStart::Ignore
    } else {
        mitid_flex_tv::config::BackOnStart::Exit
    };
    assert_eq!(
        mitid_flex_tv::config::UiConfig::default().back_on_start,
        expected
    );
}
