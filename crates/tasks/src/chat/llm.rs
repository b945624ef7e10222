//! The chat's LLM mode: an OpenAI-compatible chat completions endpoint with
//! tool calling, used when the Spin variables `llm_base_url`, `llm_model`
//! and `llm_api_key` are all set. The model gets the same tools as the
//! built-in engine ([`crate::chat::tools::functions`]); the chat runs its calls
//! and sends their results back, for at most [`MAX_ROUNDS`] rounds. The key
//! goes only into the `Authorization` header: it is never logged nor
//! answered.

use dapr::Transport;
use http::{Method, header};
use serde::Deserialize;
use serde_json::{Value, json};

/// The most completions one message may take (tool calls, then an answer).
pub const MAX_ROUNDS: usize = 4;

/// Where the model is.
#[derive(Clone)]
pub struct Llm {
    base_url: String,
    model: String,
    api_key: String,
}

impl std::fmt::Debug for Llm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Llm")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

/// What one completion answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Tools to call: `(id, name, arguments as the model wrote them)`.
    Calls(Vec<(String, String, String)>),
    /// The answer to the user.
    Text(String),
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Said,
}

#[derive(Deserialize)]
struct Said {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<Call>,
}

#[derive(Deserialize)]
struct Call {
    id: String,
    function: Function,
}

#[derive(Deserialize)]
struct Function {
    name: String,
    arguments: String,
}

impl Llm {
    /// The model the variables name, if they name one (`llm_base_url`,
    /// `llm_model`, `llm_api_key`, all three set); a variable that cannot
    /// be read counts as not set.
    pub fn from_variables<E>(variable: impl Fn(&str) -> Result<String, E>) -> Option<Self> {
        let get = |name| variable(name).ok().filter(|v| !v.trim().is_empty());
        Some(Self {
            base_url: get("llm_base_url")?.trim_end_matches('/').to_owned(),
            model: get("llm_model")?,
            api_key: get("llm_api_key")?,
        })
    }

    /// One completion of `messages`, offering `tools`; an error says why in
    /// words (without the key).
    pub async fn complete<W: Transport>(
        &self,
        web: &W,
        messages: &[Value],
        tools: &[Value],
    ) -> Result<Reply, String> {
        let body = json!({"model": self.model, "messages": messages, "tools": tools, "tool_choice": "auto"});
        let body =
            serde_json::to_vec(&body).map_err(|e| format!("cannot encode the request: {e}"))?;
        let request = http::Request::builder()
            .method(Method::POST)
            .uri(format!("{}/chat/completions", self.base_url))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, body.len())
            .header(header::AUTHORIZATION, format!("Bearer {}", self.api_key))
            .body(body)
            .map_err(|e| format!("cannot make the request: {e}"))?;
        let answer = web
            .send(request)
            .await
            .map_err(|e| format!("the model could not be reached: {e}"))?;
        if !answer.status().is_success() {
            return Err(format!("the model answered {}", answer.status()));
        }
        let completion: Completion = serde_json::from_slice(answer.body())
            .map_err(|e| format!("the model's answer was not understood: {e}"))?;
        let said = completion
            .choices
            .into_iter()
            .next()
            .ok_or("the model answered no choice")?
            .message;
        if !said.tool_calls.is_empty() {
            let calls = said
                .tool_calls
                .into_iter()
                .map(|c| (c.id, c.function.name, c.function.arguments))
                .collect();
            return Ok(Reply::Calls(calls));
        }
        Ok(Reply::Text(said.content.unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_three_variables_or_none() {
        let vars = |url: &'static str| {
            move |name: &str| -> Result<String, ()> {
                Ok(match name {
                    "llm_base_url" => url.to_owned(),
                    "llm_model" => "m".to_owned(),
                    "llm_api_key" => "sk-secret".to_owned(),
                    _ => String::new(),
                })
            }
        };
        assert!(Llm::from_variables(vars("")).is_none());
        let llm = Llm::from_variables(vars("http://127.0.0.1:1/v1/")).expect("configured");
        assert_eq!(llm.base_url, "http://127.0.0.1:1/v1");
        assert!(
            !format!("{llm:?}").contains("sk-secret"),
            "the key is never shown"
        );
    }
}
