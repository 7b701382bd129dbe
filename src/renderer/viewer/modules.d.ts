// dicom-parser is used by src/node and src/core (not by the renderer since the move to Cornerstone3D,
// whose loader brings its own copy). Its published typings differ from how those modules use it,
// so it stays declared untyped here, as before; the legacy Cornerstone 2.x declarations are gone
// with the packages (docs/adr/0008-viewer-on-cornerstone3d.md).
declare module 'dicom-parser';
