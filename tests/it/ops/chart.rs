//! The Helm chart and the operations guide name only settings `config.rs` reads,
//! name for name, and the guide lists every one of them.

use std::collections::BTreeSet;
use std::path::Path;

fn names_in(text: &str, prefix: &str) -> BTreeSet<String> {
    let re = regex::Regex::new(r"\bDATAHUB_[A-Z0-9_]+\b").expect("regex");
    re.find_iter(text)
        .map(|m| m.as_str().to_owned())
        .filter(|n| n.starts_with(prefix) && !n.ends_with('_'))
        .collect()
}

fn read_tree(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).expect("readable folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            read_tree(&path, out);
        } else {
            out.push_str(&std::fs::read_to_string(&path).expect("readable file"));
        }
    }
}

fn known() -> BTreeSet<String> {
    datahub_scim::config::env_var_names().into_iter().collect()
}

#[test]
fn chart_sets_only_variables_the_binary_reads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("helm/datahub-scim");
    let mut text = String::new();
    read_tree(&root.join("templates"), &mut text);
    text.push_str(&std::fs::read_to_string(root.join("values.yaml")).expect("values.yaml"));
    let used = names_in(&text, "DATAHUB_");
    assert!(
        used.contains("DATAHUB_GMS_URL") && used.len() > 20,
        "chart env names: {used:?}"
    );
    let known = known();
    let unknown: Vec<_> = used.difference(&known).collect();
    assert!(
        unknown.is_empty(),
        "the chart sets variables config.rs does not read: {unknown:?}"
    );
}

#[test]
fn operations_guide_lists_every_setting_and_no_other() {
    doc_lists_every_setting_and_no_other("docs/operations.md");
}

#[test]
fn readme_lists_every_setting_and_no_other() {
    doc_lists_every_setting_and_no_other("README.md");
}

fn doc_lists_every_setting_and_no_other(path: &str) {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .expect("the document");
    let mentioned = names_in(&doc, "DATAHUB_SCIM_");
    let known: BTreeSet<String> = known()
        .into_iter()
        .filter(|n| n.starts_with("DATAHUB_SCIM_"))
        .collect();
    let unknown: Vec<_> = mentioned.difference(&known).collect();
    assert!(
        unknown.is_empty(),
        "docs name settings that do not exist: {unknown:?}"
    );
    let missing: Vec<_> = known.difference(&mentioned).collect();
    assert!(missing.is_empty(), "docs miss settings: {missing:?}");
    assert!(doc.contains("DATAHUB_GMS_URL"));
}
