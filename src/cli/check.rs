//! `mitid-flex-tv check`: is this box's configuration usable?

use mitid_flex_tv::config::Settings;

use super::{Common, EXIT_BROKER};

pub fn run(common: &Common, settings: Settings) -> i32 {
    println!(
        "config file:    {}",
        settings
            .source
            .as_ref()
            .map_or("(none: built-in defaults)".into(), |p| p
                .display()
                .to_string())
    );
    println!("profile:        {:?}", settings.profile);
    println!("client_id:      {}", settings.client_id);
    println!(
        "client secret:  set ({} characters)",
        settings.client_secret.expose().chars().count()
    );
    println!("client auth:    {:?}", settings.client_auth);
    println!("identifier:     {:?}", settings.kind);
    println!("scope:          {}", settings.scope);
    let rt = match super::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async {
        let wired = match super::connect(common, &settings).await {
            Ok(w) => w,
            Err(code) => return code,
        };
        println!("issuer:         {}", wired.issuer);
        let Some(client) = wired.backend.direct() else {
            println!("broker:         reached through this backend only at sign-in");
            return 0;
        };
        let meta = match client.discover().await {
            Ok(m) => m,
            Err(e) => {
                eprintln!("discovery failed: {e}");
                return EXIT_BROKER;
            }
        };
        println!("discovery:      ok");
        println!(
            "  ciba endpoint:  {}",
            meta.backchannel_authentication_endpoint
                .as_deref()
                .unwrap_or("-")
        );
        println!("  token endpoint: {}", meta.token_endpoint);
        println!(
            "  delivery modes: {:?}",
            meta.backchannel_token_delivery_modes_supported
        );
        println!("  ID token algs we accept: {:?}", meta.allowed_algs());
        match client.fetch_jwks().await {
            Ok(set) => {
                println!("jwks:           {} key(s)", set.keys.len());
                for k in &set.keys {
                    println!(
                        "  kid {}  alg {:?}",
                        k.common.key_id.as_deref().unwrap_or("-"),
                        k.common.key_algorithm
                    );
                }
                0
            }
            Err(e) => {
                eprintln!("jwks failed: {e}");
                EXIT_BROKER
            }
        }
    })
}
