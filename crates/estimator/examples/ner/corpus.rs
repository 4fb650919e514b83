//! A named-entity corpus generated offline and reproducibly (no corpus can
//! be downloaded here): templated sentences about persons (`PER`),
//! locations (`LOC`), organisations (`ORG`) and miscellaneous entities
//! (`MISC`: languages, nationalities, events), many of several tokens,
//! tagged IOB2. Names are made of syllables; the held-out split's names are
//! never seen in training, so only their characters and their context can
//! tag them. Shared by the `ner` example, its test and the benches
//! (`#[path]`-included there).

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// The tags, by id: what the tag vocabulary file holds.
pub const TAGS: [&str; 9] = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"];

/// Which sentences: training and held-out ones differ in their seeds and
/// in every name they contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Training sentences.
    Train,
    /// Sentences whose names training never saw.
    HeldOut,
}

/// A sentence: its tokens and their tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    /// The tokens.
    pub words: Vec<String>,
    /// One IOB2 tag per token.
    pub tags: Vec<&'static str>,
}

const ONSETS: [&str; 16] = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "tr"];
const VOWELS: [&str; 6] = ["a", "e", "i", "o", "u", "ai"];
const CODAS: [&str; 6] = ["", "n", "r", "l", "s", "m"];

/// The slots a template fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Word(&'static str),
    Entity(Kind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Per,
    Loc,
    Org,
    Misc,
}

use Kind::{Loc, Misc, Org, Per};

/// Sentence templates: fixed words around entity slots.
const TEMPLATES: [&str; 16] = [
    "{PER} lives in {LOC} .",
    "{PER} works for {ORG} in {LOC} .",
    "{ORG} opened an office in {LOC} .",
    "{PER} speaks {MISC} and a little {MISC} .",
    "the {MISC} festival in {LOC} was loud .",
    "{PER} met {PER} at the {ORG} office .",
    "yesterday {PER} visited {LOC} with {PER} .",
    "{ORG} hired {PER} last year .",
    "{PER} watched the {MISC} in {LOC} .",
    "in {LOC} , {ORG} sells {MISC} food .",
    "{PER} said that {ORG} will move to {LOC} .",
    "{LOC} is far from {LOC} .",
    "according to {PER} , {ORG} is growing .",
    "{PER} flew from {LOC} to {LOC} on monday .",
    "{ORG} and {ORG} signed a deal .",
    "{PER} is {MISC} .",
];

fn parse(template: &'static str) -> Vec<Slot> {
    template
        .split(' ')
        .map(|w| match w {
            "{PER}" => Slot::Entity(Per),
            "{LOC}" => Slot::Entity(Loc),
            "{ORG}" => Slot::Entity(Org),
            "{MISC}" => Slot::Entity(Misc),
            w => Slot::Word(w),
        })
        .collect()
}

/// Draws from one split's seeds.
struct Draw {
    rng: ChaCha8Rng,
    split: Split,
}

impl Draw {
    fn pick(&mut self, n: usize) -> usize {
        (self.rng.next_u32() as usize) % n
    }

    /// A capitalised name of 2 or 3 syllables, of this split only: the
    /// splits take the names whose syllables' count of letters is even
    /// (training) or odd (held out), so that no name is in both.
    fn name(&mut self) -> String {
        loop {
            let syllables = 2 + self.pick(2);
            let mut name = String::new();
            for _ in 0..syllables {
                name.push_str(ONSETS[self.pick(ONSETS.len())]);
                name.push_str(VOWELS[self.pick(VOWELS.len())]);
                name.push_str(CODAS[self.pick(CODAS.len())]);
            }
            let odd = name.len() % 2 == 1;
            if odd == (self.split == Split::HeldOut) {
                let mut chars = name.chars();
                let first = chars.next().map(|c| c.to_ascii_uppercase()).unwrap_or('X');
                return std::iter::once(first).chain(chars).collect();
            }
        }
    }

    /// An entity's tokens.
    fn entity(&mut self, kind: Kind) -> Vec<String> {
        match kind {
            // "Karen", "Karen Tobias", "dr. Karen Tobias".
            Per => match self.pick(4) {
                0 => vec![self.name()],
                1 => vec!["dr.".to_owned(), self.name(), self.name()],
                _ => vec![self.name(), self.name()],
            },
            // "Tobia", "New Tobia", "Tobia City", "Port Tobia".
            Loc => match self.pick(5) {
                0 => vec!["New".to_owned(), self.name()],
                1 => vec![self.name(), "City".to_owned()],
                2 => vec!["Port".to_owned(), self.name()],
                _ => vec![self.name()],
            },
            // "Tobia Corp", "Tobia Labs", "Bank of Tobia", "Tobia Tetra Group".
            Org => match self.pick(5) {
                0 => vec![self.name(), "Corp".to_owned()],
                1 => vec![self.name(), "Labs".to_owned()],
                2 => vec!["Bank".to_owned(), "of".to_owned(), self.name()],
                3 => vec![self.name(), self.name(), "Group".to_owned()],
                _ => vec![self.name(), "Systems".to_owned()],
            },
            // "Tobian", "Tobish", "Tobia Cup".
            Misc => match self.pick(3) {
                0 => vec![self.name() + "ian"],
                1 => vec![self.name() + "ish"],
                _ => vec![self.name(), "Cup".to_owned()],
            },
        }
    }
}

/// Sentence `i` of `split`.
pub fn sentence(split: Split, i: u64) -> Sentence {
    let seed = match split {
        Split::Train => i,
        Split::HeldOut => i ^ 0x6e65_7200_0000_0000,
    };
    let mut draw = Draw { rng: ChaCha8Rng::seed_from_u64(seed), split };
    let template = parse(TEMPLATES[draw.pick(TEMPLATES.len())]);
    let (mut words, mut tags) = (Vec::new(), Vec::new());
    for slot in template {
        match slot {
            Slot::Word(w) => {
                words.push(w.to_owned());
                tags.push("O");
            }
            Slot::Entity(kind) => {
                let (begin, inside) = match kind {
                    Per => ("B-PER", "I-PER"),
                    Loc => ("B-LOC", "I-LOC"),
                    Org => ("B-ORG", "I-ORG"),
                    Misc => ("B-MISC", "I-MISC"),
                };
                for (k, token) in draw.entity(kind).into_iter().enumerate() {
                    words.push(token);
                    tags.push(if k == 0 { begin } else { inside });
                }
            }
        }
    }
    Sentence { words, tags }
}

/// The training split's tokens and characters, each once, in order of
/// first appearance: the word and character vocabularies.
pub fn vocabularies(train_sentences: u64) -> (Vec<String>, Vec<String>) {
    let mut words: Vec<String> = Vec::new();
    let mut chars: Vec<String> = Vec::new();
    let (mut seen_words, mut seen_chars) = (std::collections::HashSet::new(), std::collections::HashSet::new());
    for i in 0..train_sentences {
        for w in sentence(Split::Train, i).words {
            for c in w.chars() {
                if seen_chars.insert(c) {
                    chars.push(c.to_string());
                }
            }
            if seen_words.insert(w.clone()) {
                words.push(w);
            }
        }
    }
    (words, chars)
}
