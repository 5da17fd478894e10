//! Property tests: printed filters parse back to the same AST; the evaluator obeys
//! the boolean laws (not inverts, and/or distribute, De Morgan).

#![allow(clippy::unwrap_used)] // tests may unwrap

use proptest::prelude::*;
use serde_json::{json, Value};

use super::super::*;
use super::p;
use crate::scim::schema::ResourceKind::User;

// === property tests ===

fn arb_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("userName".to_owned()),
        Just("title".to_owned()),
        Just("active".to_owned()),
        Just("externalId".to_owned()),
        "[a-zA-Z][a-zA-Z0-9_-]{0,6}",
    ]
}

fn arb_path() -> impl Strategy<Value = AttrPath> {
    (
        prop_oneof![3 => Just(None), 1 => Just(Some(crate::scim::schema::ENTERPRISE_URN.to_owned()))],
        arb_name(),
        prop::option::of(arb_name()),
    )
        .prop_map(|(urn, attr, sub)| AttrPath { urn, attr, sub })
}

fn arb_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        any::<String>().prop_map(CompValue::Str),
        any::<i64>().prop_map(|i| CompValue::Num(i.into())),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(CompValue::Num)),
        any::<bool>().prop_map(CompValue::Bool),
        Just(CompValue::Null),
    ]
}

fn arb_op() -> impl Strategy<Value = CompareOp> {
    prop::sample::select(vec![
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ])
}

fn arb_atom(in_brackets: bool) -> BoxedStrategy<Filter> {
    let cmp = (arb_path(), arb_op(), arb_value()).prop_map(|(path, op, value)| Filter::Compare {
        path,
        op,
        value,
    });
    let pr = arb_path().prop_map(Filter::Present);
    if in_brackets {
        prop_oneof![cmp, pr].boxed()
    } else {
        let vp = (arb_name(), arb_tree(arb_atom(true), 2)).prop_map(|(n, f)| Filter::ValuePath {
            path: AttrPath::new(n),
            filter: Box::new(f),
        });
        prop_oneof![3 => cmp, 1 => pr, 1 => vp].boxed()
    }
}

fn arb_tree(leaf: BoxedStrategy<Filter>, depth: u32) -> BoxedStrategy<Filter> {
    leaf.prop_recursive(depth, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    })
    .boxed()
}

fn arb_filter() -> BoxedStrategy<Filter> {
    arb_tree(arb_atom(false), 5)
}

/// Small resources over the attributes the generated filters use.
fn arb_resource() -> impl Strategy<Value = Value> {
    (
        prop::option::of("[a-cA-C]{0,3}"),
        prop::option::of("[a-c]{0,3}"),
        prop::option::of(any::<bool>()),
        prop::collection::vec(("[a-c]{0,2}", "[a-c]{0,2}"), 0..3),
    )
        .prop_map(|(user, title, active, emails)| {
            let mut o = serde_json::Map::new();
            o.insert("id".into(), "x".into());
            if let Some(u) = user {
                o.insert("userName".into(), u.into());
            }
            if let Some(t) = title {
                o.insert("title".into(), t.into());
            }
            if let Some(a) = active {
                o.insert("active".into(), a.into());
            }
            let em: Vec<Value> = emails
                .into_iter()
                .map(|(t, v)| json!({"type": t, "value": v}))
                .collect();
            o.insert("emails".into(), em.into());
            Value::Object(o)
        })
}

fn arb_small_filter() -> BoxedStrategy<Filter> {
    let path = prop::sample::select(vec![
        "userName",
        "title",
        "active",
        "emails",
        "emails.type",
        "emails.value",
    ]);
    let val = prop_oneof![
        "[a-cA-C]{0,2}".prop_map(CompValue::Str),
        any::<bool>().prop_map(CompValue::Bool),
        Just(CompValue::Null)
    ];
    let cmp = (path.clone(), arb_op(), val).prop_map(|(p, op, value)| Filter::Compare {
        path: AttrPath::parse(p).unwrap(),
        op,
        value,
    });
    let pr = path.prop_map(|p| Filter::Present(AttrPath::parse(p).unwrap()));
    let vp = ("[a-c]{0,2}", "[a-c]{0,2}")
        .prop_map(|(t, v)| p(&format!(r#"emails[type eq "{t}" and value sw "{v}"]"#)));
    arb_tree(prop_oneof![cmp, pr, vp].boxed(), 4)
}

proptest! {
    #[test]
    fn printed_filters_parse_back_to_the_same_ast(f in arb_filter()) {
        let printed = f.to_string();
        prop_assume!(printed.len() <= MAX_FILTER_LEN);
        let back = parse(&printed);
        prop_assert_eq!(back.as_ref().ok(), Some(&f), "{}", printed);
    }

    #[test]
    fn evaluator_laws(f in arb_small_filter(), g in arb_small_filter(), h in arb_small_filter(), r in arb_resource()) {
        let m = |x: &Filter| x.matches(&r, User);
        let not = |x: &Filter| Filter::Not(Box::new(x.clone()));
        let and = |x: &Filter, y: &Filter| Filter::And(Box::new(x.clone()), Box::new(y.clone()));
        let or = |x: &Filter, y: &Filter| Filter::Or(Box::new(x.clone()), Box::new(y.clone()));
        prop_assert_eq!(m(&not(&f)), !m(&f));
        prop_assert_eq!(m(&and(&f, &g)), m(&f) && m(&g));
        prop_assert_eq!(m(&or(&f, &g)), m(&f) || m(&g));
        prop_assert_eq!(m(&and(&f, &or(&g, &h))), m(&or(&and(&f, &g), &and(&f, &h))));
        prop_assert_eq!(m(&not(&and(&f, &g))), m(&or(&not(&f), &not(&g))));
        // The printed form evaluates the same.
        prop_assert_eq!(m(&p(&f.to_string())), m(&f));
    }

    #[test]
    fn parser_never_panics(s in "\\PC{0,80}") {
        let _ = parse(&s);
    }
}
