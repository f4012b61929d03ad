// A one-service server, as in gemstone's examples: say_hello(name). With one service hosted, the
// bare method name works too, so curl can call "say_hello" without the service prefix.
// Serve it:  gaw examples/hello.js --http-port 8000
export class HelloService {
  static serviceName = 'hello';
  static entrypoints = ['say_hello'];

  say_hello(name) {
    return `hello ${name}`;
  }
}
