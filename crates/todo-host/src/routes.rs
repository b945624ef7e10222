//! Spin's HTTP routing: exact routes, `:name` segments and trailing `/...`
//! wildcards; when several match, the most specific wins.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

/// One `[[trigger.http]]` route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    raw: String,
    segments: Vec<Segment>,
    wildcard: bool,
}

/// What a request matched, and what Spin tells the component about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match<'r> {
    /// The route that matched.
    pub route: &'r Route,
    /// The `:name` segments' names, each with the path part it matched.
    pub params: Vec<(String, String)>,
    /// The part of the path the wildcard matched, with its leading `/`, or "".
    pub path_info: String,
}

impl Route {
    /// Parses a route such as `/api/:user_id/tasks/...`.
    pub fn parse(raw: &str) -> Self {
        let (base, wildcard) = match raw.strip_suffix("/...") {
            Some(base) => (base, true),
            None if raw == "..." => ("", true),
            None => (raw, false),
        };
        let segments = base
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| match s.strip_prefix(':') {
                Some(name) => Segment::Param(name.to_owned()),
                None => Segment::Literal(s.to_owned()),
            })
            .collect();
        Self {
            raw: raw.to_owned(),
            segments,
            wildcard,
        }
    }

    /// The route as written in the manifest.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The route without its wildcard, as Spin's `spin-component-route` gives it.
    pub fn base(&self) -> &str {
        self.raw
            .strip_suffix("/...")
            .or_else(|| self.raw.strip_suffix("..."))
            .unwrap_or(&self.raw)
    }

    /// How `path` matches this route, or `None` if it does not.
    pub fn matches(&self, path: &str) -> Option<Match<'_>> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if parts.len() < self.segments.len()
            || (!self.wildcard && parts.len() != self.segments.len())
        {
            return None;
        }
        let mut params = Vec::new();
        for (segment, part) in self.segments.iter().zip(&parts) {
            match segment {
                Segment::Literal(literal) if literal == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => params.push((name.clone(), (*part).to_owned())),
            }
        }
        let rest = &parts[self.segments.len()..];
        let path_info = if rest.is_empty() {
            String::new()
        } else {
            format!("/{}", rest.join("/"))
        };
        Some(Match {
            route: self,
            params,
            path_info,
        })
    }

    /// Longer routes beat shorter ones; at the same length an exact route
    /// beats a wildcard, and a literal segment beats a `:param`.
    fn specificity(&self) -> (usize, bool, usize) {
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        (self.segments.len(), !self.wildcard, literals)
    }
}

/// The routes of an app, each with the index of what it leads to.
#[derive(Debug, Clone, Default)]
pub struct Router {
    routes: Vec<(Route, usize)>,
}

impl Router {
    /// Adds a route that leads to `target`.
    pub fn add(&mut self, route: Route, target: usize) {
        self.routes.push((route, target));
    }

    /// The most specific route matching `path`, and its target.
    pub fn find(&self, path: &str) -> Option<(Match<'_>, usize)> {
        self.routes
            .iter()
            .filter_map(|(route, target)| route.matches(path).map(|m| (m, *target)))
            .max_by(|(a, _), (b, _)| {
                a.route
                    .specificity()
                    .cmp(&b.route.specificity())
                    .then(Ordering::Equal)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[&str]) -> Router {
        let mut router = Router::default();
        for (i, route) in routes.iter().enumerate() {
            router.add(Route::parse(route), i);
        }
        router
    }

    fn target(router: &Router, path: &str) -> Option<usize> {
        router.find(path).map(|(_, target)| target)
    }

    #[test]
    fn the_most_specific_route_wins() {
        let r = router(&[
            "/...",
            "/api/:user_id/tasks/...",
            "/api/:user_id/tasks/special",
            "/health",
        ]);
        assert_eq!(target(&r, "/"), Some(0));
        assert_eq!(target(&r, "/index.html"), Some(0));
        assert_eq!(target(&r, "/api/alice/tasks"), Some(1));
        assert_eq!(target(&r, "/api/alice/tasks/01J/complete"), Some(1));
        assert_eq!(target(&r, "/api/alice/tasks/special"), Some(2));
        assert_eq!(target(&r, "/health"), Some(3));
        assert_eq!(target(&r, "/health/more"), Some(0));
    }

    #[test]
    fn exact_routes_match_only_themselves() {
        let r = router(&["/health"]);
        assert_eq!(target(&r, "/health"), Some(0));
        assert_eq!(target(&r, "/health/x"), None);
        assert_eq!(target(&r, "/"), None);
    }

    #[test]
    fn params_and_path_info_are_reported() {
        let route = Route::parse("/api/:user_id/tasks/...");
        let m = route
            .matches("/api/alice/tasks/01J/complete")
            .expect("matches");
        assert_eq!(m.params, vec![("user_id".to_owned(), "alice".to_owned())]);
        assert_eq!(m.path_info, "/01J/complete");
        assert_eq!(route.base(), "/api/:user_id/tasks");
        assert_eq!(
            route.matches("/api/alice/tasks").map(|m| m.path_info),
            Some(String::new())
        );
        assert!(route.matches("/api/alice/notes").is_none());
    }
}
