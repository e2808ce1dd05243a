# The bench's app in a session (bench/scenarios/apps.ts): HTTP/1.1 keep-alive answering "hello", and a
# WebSocket echo, on 0.0.0.0:8000, Python's standard library only (the session image has python3).
import base64, hashlib, socket, threading

GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'


def serve(conn):
    stream = conn.makefile('rb')
    while True:
        if not stream.readline():
            return
        headers = {}
        while True:
            line = stream.readline()
            if line in (b'\r\n', b'\n', b''):
                break
            name, _, value = line.decode().partition(':')
            headers[name.strip().lower()] = value.strip()
        if headers.get('upgrade', '').lower() == 'websocket':
            accept = base64.b64encode(hashlib.sha1((headers['sec-websocket-key'] + GUID).encode()).digest())
            conn.sendall(b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                         b'Sec-WebSocket-Accept: ' + accept + b'\r\n\r\n')
            while True:
                head = stream.read(2)
                if len(head) < 2:
                    return
                opcode, length = head[0] & 15, head[1] & 127
                if length == 126:
                    length = int.from_bytes(stream.read(2), 'big')
                elif length == 127:
                    length = int.from_bytes(stream.read(8), 'big')
                mask = stream.read(4) if head[1] & 128 else b'\0\0\0\0'
                data = bytes(byte ^ mask[i % 4] for i, byte in enumerate(stream.read(length)))
                if opcode == 8:
                    conn.sendall(b'\x88\x00')
                    return
                reply = 10 if opcode == 9 else opcode
                size = bytes([len(data)]) if len(data) < 126 else bytes([126]) + len(data).to_bytes(2, 'big')
                conn.sendall(bytes([0x80 | reply]) + size + data)
        stream.read(int(headers.get('content-length', '0')))
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello')
        if headers.get('connection', '').lower() == 'close':
            return


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(('0.0.0.0', 8000))
listener.listen(64)
while True:
    conn, _ = listener.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
