# The keyledger image: `keyledger server` on Node.js 20, as a non-root user, with git for the registry clone.
# Documented in docs/deploy.md ("The image"); its CMD, ENV and HEALTHCHECK are checked against the CLI and the
# server by src/cli/deploy-examples.test.ts.
#   docker build -t registry.example.com/keyledger:1.0.0 .

# Build: the full node:20 image has python3, make and g++ for the native addons (better-sqlite3, re2).
FROM node:20-bookworm AS build
WORKDIR /build
COPY package.json npm-shrinkwrap.json .npmrc ./
# No install scripts but the two native addons' (the dev tools' downloads are not needed to compile).
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && npm rebuild better-sqlite3 re2
COPY tsconfig.json tsconfig.build.json ./
COPY bin bin
COPY src src
RUN npm run build \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# Runtime: slim, git (the registry is a git repository) and CA certificates (HTTPS remotes and providers).
FROM node:20-bookworm-slim AS runtime
RUN apt-get update \
  && apt-get install -y --no-install-recommends git ca-certificates \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --gid 10001 keyledger \
  && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/keyledger --shell /usr/sbin/nologin keyledger \
  && mkdir -p /var/lib/keyledger/registry /var/lib/keyledger/data \
  && chown -R 10001:10001 /var/lib/keyledger
WORKDIR /opt/keyledger
COPY --from=build /build/package.json /build/npm-shrinkwrap.json ./
COPY --from=build /build/node_modules node_modules
COPY --from=build /build/dist dist
COPY --from=build /build/bin bin
RUN ln -s /opt/keyledger/bin/keyledger.js /usr/local/bin/keyledger
# The same paths and port as deploy/kubernetes/configmap.yaml; override any of them with -e or the ConfigMap.
ENV NODE_ENV=production \
  HOME=/var/lib/keyledger \
  KEYLEDGER_REGISTRY=/var/lib/keyledger/registry \
  KEYLEDGER_DATA_DIR=/var/lib/keyledger/data \
  KEYLEDGER_SERVER_HOST=0.0.0.0 \
  KEYLEDGER_SERVER_PORT=8080
USER 10001:10001
EXPOSE 8080
# /readyz: every module's readiness checks pass (src/server/keyledger-server.ts). The slim image has no curl: Node's fetch.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.KEYLEDGER_SERVER_PORT}/readyz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["keyledger"]
CMD ["server"]
