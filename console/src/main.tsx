import { render } from "preact";
import { App } from "./app";
import { loadConfig } from "./session";
import "./styles.css";

const root = document.getElementById("app")!;
loadConfig()
  .then(() => render(<App />, root))
  .catch((error: unknown) => {
    root.textContent = `The console cannot start: ${error instanceof Error ? error.message : String(error)}`;
  });
