//go:build !unix

package main

// oNonblock is 0 where named pipes are not opened through the file system.
const oNonblock = 0

// oNofollow is 0 where os.OpenFile has no such flag: the Lstat before the
// open is all there is.
const oNofollow = 0
