//! `/v1/people`: the names of the users within the caller's jurisdiction, so a
//! phone shows who decided (or asked, or recorded) by name, offline.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use fengqiao_domain::wire::{ErrorBody, PeopleResponse, Person};
use fengqiao_domain::{EntityKind, Record};
use uuid::Uuid;

use super::auth_routes::Authed;
use super::error::ApiResult;
use super::AppState;
use crate::store::{Store, StoreResult};

/// A unit and the units above it, as far as they are stored.
fn chain(store: &dyn Store, unit: Uuid) -> StoreResult<Vec<Uuid>> {
    let mut out = Vec::new();
    let mut next = Some(unit);
    while let Some(id) = next.take() {
        if out.len() >= fengqiao_domain::apply::MAX_DEPTH || out.contains(&id) {
            break;
        }
        match store.record(EntityKind::Unit, id)? {
            Some(Record::Unit(u)) => {
                out.push(u.id);
                next = u.parent;
            }
            _ => break,
        }
    }
    Ok(out)
}

/// The users holding a role on a unit within one of `caller`'s units (the
/// unit itself or one below it), and the caller, by display name. Nobody
/// outside the caller's jurisdiction is named.
pub fn people_in_scope(store: &dyn Store, caller: Uuid, caller_units: &[Uuid]) -> StoreResult<Vec<Person>> {
    let mut chains: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut out = Vec::new();
    for u in store.users()? {
        let mut within = u.id == caller;
        for g in &u.grants {
            if within {
                break;
            }
            let c = match chains.entry(g.unit_id) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(chain(store, g.unit_id)?),
            };
            within = c.iter().any(|x| caller_units.contains(x));
        }
        if within {
            out.push(Person { id: u.id, display_name: u.display_name });
        }
    }
    out.sort_by_key(|p| p.id);
    Ok(out)
}

/// The display names of the users within the caller's jurisdiction (and the
/// caller's own), with an `ETag`: a request naming it in `If-None-Match` is
/// answered `304` without a body.
#[utoipa::path(get, path = "/v1/people", tag = "sync", security(("bearer" = [])),
    params(("If-None-Match" = Option<String>, Header, description = "the ETag of the names the phone keeps")),
    responses((status = 200, body = PeopleResponse, description = "ETag; Cache-Control: private, max-age=3600"),
        (status = 304, description = "the names are those named by If-None-Match"),
        (status = 401, body = ErrorBody)))]
pub async fn people(State(st): State<AppState>, Authed(caller): Authed, headers: HeaderMap) -> ApiResult<Response> {
    let store = st.store.clone();
    let units: Vec<Uuid> = caller.user.grants.iter().map(|g| g.unit_id).collect();
    let me = caller.user.id;
    let people = tokio::task::spawn_blocking(move || people_in_scope(store.as_ref(), me, &units)).await??;
    Ok(super::cache::json_or_304(&headers, &PeopleResponse { people }, "private, max-age=3600"))
}
