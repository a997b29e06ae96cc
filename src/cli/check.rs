//! `mitid-flex-tv check`: is this box's configuration usable?

use mitid_flex_tv::ciba::{CibaClient, CibaError};
use mitid_flex_tv::config::Settings;
use mitid_flex_tv::sanitize::clean;

use super::{Common, EXIT_BROKER, EXIT_CONFIG, embedded};

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
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokio: {e}");
            return EXIT_BROKER;
        }
    };
    rt.block_on(async {
        let (issuer, _sim) = match embedded::issuer_for(&settings, common.sim_approve_after).await {
            Ok(v) => v,
            Err(e) => {
                eprintln!("{e}");
                return EXIT_BROKER;
            }
        };
        println!("issuer:         {issuer}");
        let client = match CibaClient::new(settings.client_config(&issuer)) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                return EXIT_CONFIG;
            }
        };
        let meta = match client.discover().await {
            Ok(m) => m,
            // An unsafe or unusable document is this box's configuration problem (exit 2);
            // an unreachable or nonsensical OP is the broker's (exit 6).
            Err(e @ CibaError::Discovery(_)) => {
                eprintln!("discovery rejected: {e}");
                return EXIT_CONFIG;
            }
            Err(e) => {
                eprintln!("discovery failed: {e}");
                return EXIT_BROKER;
            }
        };
        println!("discovery:      ok");
        println!(
            "  ciba endpoint:  {}",
            clean(
                meta.backchannel_authentication_endpoint
                    .as_deref()
                    .unwrap_or("-")
            )
        );
        println!("  token endpoint: {}", clean(&meta.token_endpoint));
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
                        clean(k.common.key_id.as_deref().unwrap_or("-")),
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
