//! The XKB option `tv:remote` (assets/xkb, installed as /usr/share/mitid-flex-tv/xkb) must
//! give every TV remote key a keysym that Slint's linuxkms backend turns into a distinct key.
//!
//! The keymap is compiled with libxkbcommon exactly as the kiosk service does it
//! (`XKB_CONFIG_EXTRA_PATH` = our directory first, then the system XKB data, rules `evdev`,
//! options `tv:remote`). Every expected value here is written down independently of
//! `assets/xkb/symbols/tv`: the Linux key codes are the numbers of
//! `linux/input-event-codes.h` (checked against the header when it is installed), and the
//! XKB key code is the Linux code + 8. A wrong line in the symbols file fails a test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use xkbcommon::xkb;

/// (name in linux/input-event-codes.h, Linux evdev code, keysym we promise)
const REMOTE: &[(&str, u32, xkb::Keysym)] = &[
    ("KEY_BACK", 158, xkb::Keysym::Escape),
    ("KEY_EXIT", 174, xkb::Keysym::Escape),
    ("KEY_OK", 0x160, xkb::Keysym::Return),
    ("KEY_SELECT", 0x161, xkb::Keysym::Return),
    ("KEY_MENU", 139, xkb::Keysym::Menu),
    ("KEY_CONTEXT_MENU", 0x1b6, xkb::Keysym::Menu),
    ("KEY_HOMEPAGE", 172, xkb::Keysym::Home),
    ("KEY_RED", 0x18e, xkb::Keysym::F1),
    ("KEY_GREEN", 0x18f, xkb::Keysym::F2),
    ("KEY_YELLOW", 0x190, xkb::Keysym::F3),
    ("KEY_BLUE", 0x191, xkb::Keysym::F4),
    ("KEY_INFO", 0x166, xkb::Keysym::F5),
    ("KEY_CHANNELUP", 0x192, xkb::Keysym::Page_Up),
    ("KEY_CHANNELDOWN", 0x193, xkb::Keysym::Page_Down),
    ("KEY_NUMERIC_0", 0x200, xkb::Keysym::_0),
    ("KEY_NUMERIC_1", 0x201, xkb::Keysym::_1),
    ("KEY_NUMERIC_2", 0x202, xkb::Keysym::_2),
    ("KEY_NUMERIC_3", 0x203, xkb::Keysym::_3),
    ("KEY_NUMERIC_4", 0x204, xkb::Keysym::_4),
    ("KEY_NUMERIC_5", 0x205, xkb::Keysym::_5),
    ("KEY_NUMERIC_6", 0x206, xkb::Keysym::_6),
    ("KEY_NUMERIC_7", 0x207, xkb::Keysym::_7),
    ("KEY_NUMERIC_8", 0x208, xkb::Keysym::_8),
    ("KEY_NUMERIC_9", 0x209, xkb::Keysym::_9),
];

/// Keys that already work and must keep working with the option.
const UNCHANGED: &[(&str, u32, xkb::Keysym)] = &[
    ("KEY_ESC", 1, xkb::Keysym::Escape),
    ("KEY_ENTER", 28, xkb::Keysym::Return),
    ("KEY_BACKSPACE", 14, xkb::Keysym::BackSpace),
    ("KEY_UP", 103, xkb::Keysym::Up),
    ("KEY_DOWN", 108, xkb::Keysym::Down),
    ("KEY_LEFT", 105, xkb::Keysym::Left),
    ("KEY_RIGHT", 106, xkb::Keysym::Right),
    ("KEY_HOME", 102, xkb::Keysym::Home),
    ("KEY_1", 2, xkb::Keysym::_1),
    ("KEY_0", 11, xkb::Keysym::_0),
];

const EVDEV_TO_XKB: u32 = 8;

fn xkb_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/xkb")
}

/// Compile a keymap the way the service does: our include dir before the system one.
fn try_keymap(layout: &str, options: Option<&str>, with_our_dir: bool) -> Option<xkb::Keymap> {
    let mut ctx =
        xkb::Context::new(xkb::CONTEXT_NO_DEFAULT_INCLUDES | xkb::CONTEXT_NO_ENVIRONMENT_NAMES);
    if with_our_dir {
        assert!(
            ctx.include_path_append(&xkb_dir()),
            "cannot add {:?}",
            xkb_dir()
        );
    }
    // The system XKB root: XKB_CONFIG_ROOT if set, else libxkbcommon's compiled-in default.
    let root = std::env::var_os("XKB_CONFIG_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/X11/xkb"));
    assert!(
        ctx.include_path_append(&root),
        "system XKB data missing at {root:?} (Debian package xkb-data)"
    );
    xkb::Keymap::new_from_names(
        &ctx,
        "evdev",
        "pc105",
        layout,
        "",
        options.map(str::to_owned),
        xkb::KEYMAP_COMPILE_NO_FLAGS,
    )
}

fn keymap(layout: &str, options: Option<&str>, with_our_dir: bool) -> xkb::Keymap {
    try_keymap(layout, options, with_our_dir)
        .unwrap_or_else(|| panic!("keymap did not compile (layout {layout}, options {options:?})"))
}

fn sym(keymap: &xkb::Keymap, evdev: u32) -> xkb::Keysym {
    let state = xkb::State::new(keymap);
    state.key_get_one_sym(xkb::Keycode::new(evdev + EVDEV_TO_XKB))
}

#[test]
fn remote_keys_map_to_distinct_slint_keys() {
    for layout in ["us", "dk"] {
        let km = keymap(layout, Some("tv:remote"), true);
        let mut wrong = Vec::new();
        for &(name, code, want) in REMOTE.iter().chain(UNCHANGED) {
            let got = sym(&km, code);
            if got != want {
                wrong.push(format!(
                    "{name} (evdev {code}, <I{}>): got {}, want {}",
                    code + EVDEV_TO_XKB,
                    xkb::keysym_get_name(got),
                    xkb::keysym_get_name(want)
                ));
            }
        }
        assert!(wrong.is_empty(), "layout {layout}:\n{}", wrong.join("\n"));
    }
}

/// Without the option the problem the option fixes is really there: these keys have no
/// keysym with a character (Slint sees "\0") or a keysym other than the one we promise.
/// If this starts failing, the system data changed and the option may be unnecessary.
#[test]
fn without_the_option_the_remote_keys_are_not_mapped() {
    let km = keymap("us", None, true);
    for &(name, code, want) in REMOTE {
        if name.starts_with("KEY_NUMERIC_") {
            continue; // may or may not be mapped by xkeyboard-config; not part of the problem
        }
        assert_ne!(
            sym(&km, code),
            want,
            "{name} already maps to the target keysym"
        );
    }
    // And our rules file is what activates it: asking for the option without our dir
    // fails to compile or yields a keymap that does not remap KEY_OK.
    if let Some(km) = try_keymap("us", Some("tv:remote"), false) {
        assert_ne!(sym(&km, 0x160), xkb::Keysym::Return);
    }
}

/// Every Linux key code used above is checked against the kernel header when it is
/// installed (Debian linux-libc-dev, pulled in by libc6-dev).
#[test]
fn key_codes_match_linux_input_event_codes_h() {
    let header = Path::new("/usr/include/linux/input-event-codes.h");
    let Ok(text) = std::fs::read_to_string(header) else {
        eprintln!("skipped: {header:?} not installed");
        return;
    };
    for &(name, code, _) in REMOTE.iter().chain(UNCHANGED) {
        let value = text
            .lines()
            .filter_map(|l| {
                let mut it = l.split_whitespace();
                (it.next() == Some("#define") && it.next() == Some(name))
                    .then(|| it.next())
                    .flatten()
            })
            .next()
            .unwrap_or_else(|| panic!("{name} not in {header:?}"));
        let parsed = match value.strip_prefix("0x") {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => value.parse(),
        }
        .unwrap_or_else(|e| panic!("{name} = {value}: {e}"));
        assert_eq!(parsed, code, "{name}");
    }
}

/// The symbols file documents each line with its Linux name; keep the comments honest too:
/// every `<Ixxx>` in the file must be one of the keys tested above.
#[test]
fn symbols_file_has_no_untested_lines() {
    let text = std::fs::read_to_string(xkb_dir().join("symbols/tv")).unwrap();
    for line in text
        .lines()
        .filter(|l| l.trim_start().starts_with("key <I"))
    {
        let n: u32 = line.split(['<', '>']).nth(1).unwrap()[1..].parse().unwrap();
        let (name, code, _) = REMOTE
            .iter()
            .find(|r| r.1 + EVDEV_TO_XKB == n)
            .unwrap_or_else(|| panic!("untested line: {line}"));
        assert!(
            line.contains(name) && line.contains(&format!(" {code}")),
            "comment does not match <I{n}> = {name} {code}: {line}"
        );
    }
}
