//! The bindings generated from `wit/`: the Spin interfaces the host offers
//! beside WASI 0.2 and wasi:http (`fermyon:spin/variables@2.0.0`,
//! `spin:sqlite/sqlite@3.0.0`, `spin:postgres/postgres@4.0.0`).

wasmtime::component::bindgen!({
    path: "wit",
    world: "host",
    imports: {
        "spin:sqlite": async | trappable,
        "spin:postgres": async | trappable,
    },
    with: {
        "spin:sqlite/sqlite.connection": crate::sqlite::Connection,
        "spin:postgres/postgres.connection": crate::postgres::Connection,
    },
});
