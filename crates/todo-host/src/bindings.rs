//! The bindings generated from `wit/`: the `fermyon:spin/variables@2.0.0`
//! interface that the host offers beside WASI 0.2 and wasi:http.

wasmtime::component::bindgen!({ path: "wit", world: "host" });
