//! Envoy Gateway's view of an applied set: Gateways, listeners, routes, policies, backends,
//! the deployed version, with the effective values and the spans that decide them.
