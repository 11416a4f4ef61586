package lmstore

import (
	"errors"
	"strconv"
)

// Code is a status code of the C library (LMS_* in lmstore.h). Codes are never renumbered;
// new ones may be added, so treat an unknown code as an error.
type Code int

// Status codes, equal to the LMS_* values of lmstore.h.
const (
	CodeOK              Code = 0
	CodeNotFound        Code = 1
	CodeInvalidArgument Code = 2
	CodeConflict        Code = 3
	CodeMapFull         Code = 4
	CodeIO              Code = 5
	CodeCorrupt         Code = 6
	CodeVersionMismatch Code = 7
	CodeInternal        Code = 8
	CodeKeyTooLong      Code = 9
	CodeInvalidUTF8     Code = 10
	CodeBadMsgpack      Code = 11
	CodeBadCursor       Code = 12
	CodeReadOnly        Code = 13
	CodeTooLarge        Code = 14
	// CodeBufferTooSmall: a caller-provided buffer was too small. The package grows its
	// buffers and retries, so this never reaches callers of its methods.
	CodeBufferTooSmall Code = 15
	// CodeInput: a render input is missing or has the wrong type.
	CodeInput Code = 16
	// CodeRender: the template failed to compile or render.
	CodeRender Code = 17
	// CodeNotAStore: the path holds a file or LMDB environment that is not an lmstore; it was
	// not modified.
	CodeNotAStore Code = 18
	// CodeUnsupported: the operation means nothing for the store's backend (an LMDB backup of
	// a PostgreSQL store).
	CodeUnsupported Code = 19

	// CodeClosed is the binding's own: the DB was closed. The C library never sees the call.
	CodeClosed Code = -1
)

// String returns the library's short description of the code, e.g. "not found".
func (c Code) String() string {
	if c == CodeClosed {
		return "database closed"
	}
	return cStrerror(int(c))
}

// Sentinel errors, one per status code. Every error this package returns for a failed call
// is an *Error whose Unwrap returns one of these, so match with errors.Is:
//
//	if errors.Is(err, lmstore.ErrNotFound) { ... }
var (
	// ErrNotFound: the template, version, alias, message or session does not exist.
	ErrNotFound = errors.New("lmstore: not found")
	// ErrInvalidArgument: an argument is empty where it may not be, out of range or malformed.
	ErrInvalidArgument = errors.New("lmstore: invalid argument")
	// ErrConflict: the write contradicts what is stored (another template under an existing
	// version, a session that already exists).
	ErrConflict = errors.New("lmstore: conflict")
	// ErrMapFull: the store reached its growth cap (Options.MaxMapSize).
	ErrMapFull = errors.New("lmstore: map full")
	// ErrIO: the operating system reported an I/O error.
	ErrIO = errors.New("lmstore: I/O error")
	// ErrCorrupt: stored data is damaged or the directory is not an lmstore database.
	ErrCorrupt = errors.New("lmstore: corrupt")
	// ErrVersionMismatch: the store was written by a newer lmstore or an incompatible LMDB.
	ErrVersionMismatch = errors.New("lmstore: version mismatch")
	// ErrInternal: a bug in lmstore (including a caught panic in the core).
	ErrInternal = errors.New("lmstore: internal error")
)

var (
	// ErrKeyTooLong: a template id, version, alias, session or agent id is too long.
	ErrKeyTooLong = errors.New("lmstore: key too long")
	// ErrInvalidUTF8: text that must be UTF-8 is not.
	ErrInvalidUTF8 = errors.New("lmstore: invalid UTF-8")
	// ErrBadMsgpack: MessagePack input is malformed or has the wrong shape.
	ErrBadMsgpack = errors.New("lmstore: bad MessagePack")
	// ErrBadCursor: a page cursor is malformed or belongs to another query.
	ErrBadCursor = errors.New("lmstore: bad cursor")
	// ErrReadOnly: a write on a store opened read-only.
	ErrReadOnly = errors.New("lmstore: read-only")
	// ErrTooLarge: a value is larger than the map could hold even at its growth cap.
	ErrTooLarge = errors.New("lmstore: too large")
	// ErrBufferTooSmall: a result did not fit a caller-provided buffer. Methods of this package
	// grow their buffers and retry instead of returning it.
	ErrBufferTooSmall = errors.New("lmstore: buffer too small")
	// ErrInput: a render input is missing or has the wrong type (the message names it).
	ErrInput = errors.New("lmstore: bad render input")
	// ErrRender: the template failed to compile or render (the message has the line).
	ErrRender = errors.New("lmstore: render failed")
	// ErrNotAStore: the path holds a file or LMDB environment that is not an lmstore; it was
	// left untouched.
	ErrNotAStore = errors.New("lmstore: not an lmstore")
	// ErrUnsupported: the operation means nothing for the store's backend (Backup of a
	// PostgreSQL store).
	ErrUnsupported = errors.New("lmstore: unsupported by this backend")
)

// ErrClosed is returned by every call on a DB after Close.
var ErrClosed = errors.New("lmstore: database closed")

var sentinels = map[Code]error{
	CodeNotFound:        ErrNotFound,
	CodeInvalidArgument: ErrInvalidArgument,
	CodeConflict:        ErrConflict,
	CodeMapFull:         ErrMapFull,
	CodeIO:              ErrIO,
	CodeCorrupt:         ErrCorrupt,
	CodeVersionMismatch: ErrVersionMismatch,
	CodeInternal:        ErrInternal,
	CodeKeyTooLong:      ErrKeyTooLong,
	CodeInvalidUTF8:     ErrInvalidUTF8,
	CodeBadMsgpack:      ErrBadMsgpack,
	CodeBadCursor:       ErrBadCursor,
	CodeReadOnly:        ErrReadOnly,
	CodeTooLarge:        ErrTooLarge,
	CodeBufferTooSmall:  ErrBufferTooSmall,
	CodeInput:           ErrInput,
	CodeRender:          ErrRender,
	CodeNotAStore:       ErrNotAStore,
	CodeUnsupported:     ErrUnsupported,
	CodeClosed:          ErrClosed,
}

// Error is a failed call: which operation, the library's status code and its message.
type Error struct {
	Op   string // the method that failed, e.g. "GetTemplate"
	Code Code   // the LMS_* status
	Msg  string // the library's description of this failure (lms_last_error)
}

func (e *Error) Error() string {
	msg := e.Msg
	if msg == "" {
		msg = e.Code.String()
	}
	return "lmstore: " + e.Op + ": " + msg
}

// Unwrap returns the sentinel for e.Code, so errors.Is(err, ErrNotFound) works. An unknown
// code (from a newer library) unwraps to ErrInternal.
func (e *Error) Unwrap() error {
	if s, ok := sentinels[e.Code]; ok {
		return s
	}
	return ErrInternal
}

func newError(op string, code Code, msg string) error {
	return &Error{Op: op, Code: code, Msg: msg}
}

func errFrom(op string, r *callResult) error {
	if r.code == 0 {
		return nil
	}
	return newError(op, Code(r.code), r.msg)
}

func errClosed(op string) error {
	return newError(op, CodeClosed, "the database is closed")
}

func errInvalid(op, msg string) error {
	return newError(op, CodeInvalidArgument, msg)
}

func errBadRecord(op string, err error) error {
	// The library produced bytes this package cannot read: either the core and the binding
	// disagree on a record's shape, or the store is damaged.
	return newError(op, CodeCorrupt, "cannot decode record: "+err.Error())
}

func itoa(n int) string { return strconv.Itoa(n) }
