# xmpp-incident-bot as a container: Node slim, a non-root user, the store on a volume, health from /healthz.
#   docker build -t incident-bot .
#   docker run -v incident-data:/data -v ./bot.config.json:/etc/incident-bot.json:ro incident-bot
# The config must set "storage": {"path": "/data/incidents.json"} and "http": {"listen": "0.0.0.0:9468"}
# (inside the container; publish the port only to your monitoring network).
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/incident-bot
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin/ bin/
COPY src/ src/
COPY commands/ commands/
RUN useradd --system --home /data --shell /usr/sbin/nologin incident-bot \
 && install -d -o incident-bot -g incident-bot /data
USER incident-bot
VOLUME ["/data"]
EXPOSE 9468
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:9468/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "/opt/incident-bot/bin/incident-bot.js"]
CMD ["--config", "/etc/incident-bot.json"]
