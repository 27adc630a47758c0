# Steward's worker and API image (docker-compose.yml runs it twice with different commands).
# Stage 1 compiles the TypeScript (npm ci runs the build through `prepare`); stage 2 keeps only the
# production dependencies and the compiled JavaScript.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY activities ./activities
COPY workflows ./workflows
COPY pipelines ./pipelines
RUN npm ci

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts
COPY bin ./bin
COPY templates ./templates
COPY --from=build /app/dist ./dist
USER node
ENTRYPOINT ["node", "bin/steward.js"]
CMD ["worker"]
