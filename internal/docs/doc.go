// Package docs holds no code: its tests check the repository's README
// files, so that a moved file, a renamed heading or a renamed test fails
// the tests rather than a reader.
package docs
