# The daemon image used by docker-compose.yml (api + worker, or a worker alone as a scale-out process server).
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends redis-server && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY src ./src
COPY bin ./bin
COPY repository/README.md ./repository/README.md
ENV HOST=0.0.0.0 DATA_DIR=/data REPOSITORY_DIR=/repository
VOLUME ["/data", "/repository"]
EXPOSE 8080
CMD ["node", "--import", "tsx", "src/main.ts"]
