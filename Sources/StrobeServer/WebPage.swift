import HTTPTypes
import Hummingbird

/// The web page's three files, embedded in the binary at build time from `Web/`.
enum WebPage {
    case index, script, style

    static func response(_ page: WebPage) -> Response {
        let (bytes, type): ([UInt8], String) =
            switch page {
            case .index: (PackageResources.index_html, "text/html; charset=utf-8")
            case .script: (PackageResources.app_js, "text/javascript; charset=utf-8")
            case .style: (PackageResources.style_css, "text/css; charset=utf-8")
            }
        return Response(
            status: .ok,
            headers: [.contentType: type, .cacheControl: "no-cache", .contentSecurityPolicy: "default-src 'self'; img-src 'self' data: blob:"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
