// Package conformance holds no code: its test checks the project against
// Twilio's OpenAPI description of Chat v2. It is a module of its own so that
// its validator, github.com/getkin/kin-openapi, stays out of the library's
// go.mod.
package conformance
