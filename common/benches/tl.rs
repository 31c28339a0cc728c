//! TL codec and JSON form speed, on the known-answer vectors' objects: a layer-73 text
//! message and a layer-143 document with attributes.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use secretchat_common::tl::e2e::Object;
use secretchat_common::tl::{TlJson, TlRead, TlWrite};
use serde_json::Value;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/vectors.json");

fn vector_object(name: &str) -> Object {
    let text = std::fs::read_to_string(VECTORS).expect("vectors.json is readable");
    let all: Value = serde_json::from_str(&text).expect("vectors.json is JSON");
    let vector = all["vectors"]
        .as_array()
        .expect("vectors is an array")
        .iter()
        .find(|v| v["name"] == name)
        .expect("the vector exists");
    Object::from_json(&vector["inputs"]["object"]).expect("the vector object reads")
}

fn bench_tl(c: &mut Criterion) {
    for name in ["layer73_message_text", "layer143_media_document143"] {
        let object = vector_object(name);
        let bytes = object.to_bytes();
        let json = object.to_json();
        c.bench_function(&format!("tl/encode/{name}"), |b| {
            b.iter(|| black_box(&object).to_bytes())
        });
        c.bench_function(&format!("tl/decode/{name}"), |b| {
            b.iter(|| Object::from_bytes(black_box(&bytes)))
        });
        c.bench_function(&format!("tl/to_json/{name}"), |b| {
            b.iter(|| black_box(&object).to_json())
        });
        c.bench_function(&format!("tl/from_json/{name}"), |b| {
            b.iter(|| Object::from_json(black_box(&json)))
        });
    }
}

criterion_group!(benches, bench_tl);
criterion_main!(benches);
