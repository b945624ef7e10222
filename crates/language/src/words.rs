//! A message as words: each with its text as typed, a lower-case form to
//! match on, and whether it was quoted (quoted text is taken literally:
//! nothing in it is read as a date, a tag or a priority).

/// One word of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// As typed, without the punctuation that ends it.
    pub text: String,
    /// Lower case, for matching (`every!` keeps its mark).
    pub lower: String,
    /// Inside quotes: literal.
    pub quoted: bool,
    /// Punctuation that ended it (`,` `.` `?` `!` `;`), which breaks phrases.
    pub stop: bool,
}

impl Word {
    /// Whether it is one of `words` (and not quoted).
    pub fn is(&self, words: &[&str]) -> bool {
        !self.quoted && words.contains(&self.lower.as_str())
    }
}

/// Words whose period marks an abbreviation, not the end of a phrase:
/// "Dr. Khan" keeps its period (and so does an initial, "J. Smith").
const ABBREVIATIONS: [&str; 14] = [
    "dr", "mr", "mrs", "ms", "prof", "st", "jr", "sr", "mt", "vs", "approx", "dept", "inc", "ltd",
];

/// Whether `raw`, as typed, is an abbreviation with its period.
fn abbreviation(raw: &str) -> bool {
    let Some(stem) = raw.strip_suffix('.') else {
        return false;
    };
    let initial = stem.chars().count() == 1 && stem.chars().all(char::is_alphabetic);
    initial || ABBREVIATIONS.contains(&stem.to_lowercase().as_str())
}

/// The words of `message`. Text in matching single or double quotes (also
/// typographic ones) becomes one quoted word.
pub fn split(message: &str) -> Vec<Word> {
    let mut words = Vec::new();
    let mut rest = message.trim();
    while !rest.is_empty() {
        let first = rest.chars().next().unwrap_or(' ');
        if let Some(close) = closing_quote(first)
            && let Some(end) = rest[first.len_utf8()..].find(close)
        {
            let inner = &rest[first.len_utf8()..first.len_utf8() + end];
            words.push(Word {
                text: inner.to_owned(),
                lower: inner.to_lowercase(),
                quoted: true,
                stop: false,
            });
            rest = rest[first.len_utf8() + end + close.len_utf8()..].trim_start();
            continue;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let raw = &rest[..end];
        rest = rest[end..].trim_start();
        let trimmed = raw.trim_end_matches([',', '.', '?', ';', ':', '!']);
        let trimmed = if raw.to_lowercase().starts_with("every!") {
            &raw[..6]
        } else if abbreviation(raw) {
            raw
        } else {
            trimmed
        };
        if trimmed.is_empty() {
            if let Some(last) = words.last_mut() {
                last.stop = true;
            }
            continue;
        }
        words.push(Word {
            text: trimmed.to_owned(),
            lower: trimmed.to_lowercase(),
            quoted: false,
            stop: trimmed != raw && raw.ends_with([',', '.', '?', ';', ':']),
        });
    }
    words
}

fn closing_quote(open: char) -> Option<char> {
    match open {
        '"' => Some('"'),
        '\'' => Some('\''),
        '“' => Some('”'),
        '‘' => Some('’'),
        _ => None,
    }
}

/// The words' text joined again, tidied: no connector left dangling at
/// either end.
pub fn join(words: &[&Word]) -> String {
    const DANGLING: [&str; 12] = [
        "on", "at", "by", "due", "and", "to", "for", "with", "in", "the", "a", "-",
    ];
    let mut words: Vec<&Word> = words.to_vec();
    while words.last().is_some_and(|w| w.is(&DANGLING)) {
        words.pop();
    }
    while words
        .first()
        .is_some_and(|w| w.is(&["to", "and", "-", "that", "i", "should"]))
    {
        words.remove(0);
    }
    words
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_keep_text_whole_and_punctuation_breaks_phrases() {
        let words = split("add 'The 5th Wave' to my list, please!");
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["add", "The 5th Wave", "to", "my", "list", "please"]);
        assert!(words[1].quoted && words[4].stop);
        assert_eq!(split("every! week")[0].lower, "every!");
    }
}
