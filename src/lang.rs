//! The one language choice shared by the TV app and the command line.

/// Display language. English is the `.slint` source; Danish is the bundled translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Da,
    En,
}

impl Lang {
    /// Config `language` first, then `LANG`; Danish unless one of them asks for English. The
    /// product is Danish-first: a German or C locale still gets Danish, never a mix.
    pub fn pick(config: Option<&str>, env_lang: Option<&str>) -> Lang {
        match config.or(env_lang).map(str::to_ascii_lowercase) {
            Some(l) if l.starts_with("en") => Lang::En,
            _ => Lang::Da,
        }
    }

    /// From the config value and this process's `LANG`.
    pub fn from_env(config: Option<&str>) -> Lang {
        Lang::pick(config, std::env::var("LANG").ok().as_deref())
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Da => "da",
            Lang::En => "en",
        }
    }

    /// The Danish or the English text.
    pub fn text<'a>(self, da: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Da => da,
            Lang::En => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn danish_unless_english_is_asked_for() {
        assert_eq!(Lang::pick(None, None), Lang::Da);
        assert_eq!(Lang::pick(None, Some("de_DE.UTF-8")), Lang::Da);
        assert_eq!(Lang::pick(None, Some("C")), Lang::Da);
        assert_eq!(Lang::pick(None, Some("en_GB.UTF-8")), Lang::En);
        assert_eq!(Lang::pick(Some("da"), Some("en_US")), Lang::Da);
        assert_eq!(Lang::pick(Some("EN"), None), Lang::En);
    }
}
