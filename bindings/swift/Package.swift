// swift-tools-version:5.7
// ChatSDK for Swift: `CChatSDK` (system library: the C API through a module
// map) and `ChatSDK` (the Swift wrapper, Sources/ChatSDK/ChatSDK.swift).
//
// libchatsdk_c is built by this repository's CMake (target chatsdk_c); point
// the compiler at its header and library, e.g.
//   swift build -Xcc -I../c/include -Xlinker -L../../out/build/release/bindings/c
// or install it (cmake --install) into a prefix on the default search paths.
import PackageDescription

let package = Package(
  name: "ChatSDK",
  platforms: [.macOS(.v12), .iOS(.v15)],
  products: [
    .library(name: "ChatSDK", targets: ["ChatSDK"]),
  ],
  targets: [
    .systemLibrary(name: "CChatSDK", path: "Sources/CChatSDK"),
    .target(name: "ChatSDK", dependencies: ["CChatSDK"], path: "Sources/ChatSDK"),
  ]
)
