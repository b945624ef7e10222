//! `/api/{user_id}/chat` (`POST` a message, get the answer and the tools it
//! called) and `/api/{user_id}/conversations/{id}` (`GET` a conversation).

use dapr::Transport;
use http::{Method, StatusCode};

use super::edge::{self, ApiError, Base, Sidecar, json, json_body};
use crate::chat::llm::Llm;
use crate::chat::rate;
use crate::chat::{Chat, Said};
use crate::limits::Given;
use crate::service::Env;

/// The chat API behind a Dapr sidecar, for tokens signed with `jwt_secret`.
#[derive(Debug)]
pub struct ChatApi<T> {
    base: Base,
    sidecar: Sidecar<T>,
    /// The Dapr state store conversations are kept in (`state_store`).
    state_store: String,
    /// The LLM, when the variables name one, and the transport to it.
    llm: Option<(Llm, T)>,
}

enum Route<'p> {
    Chat,
    Conversation(&'p str),
}

impl<T: Transport + Clone> ChatApi<T> {
    /// The API as a component's variables say (`database_url`,
    /// `auth_jwt_secret`, the chat's [`Limits`](crate::Limits), `dapr_url`,
    /// `dapr_api_token`, the [`Settings`](crate::Settings), `state_store`,
    /// and `llm_base_url`, `llm_model`, `llm_api_key` for the LLM mode),
    /// reaching daprd and the model through `transport`.
    pub fn from_variables<E: From<crate::limits::BadLimit>>(
        transport: T,
        open: sql::Open,
        variable: impl Fn(&str) -> Result<String, E>,
    ) -> Result<Self, E> {
        let llm = Llm::from_variables(&variable).map(|llm| (llm, transport.clone()));
        Ok(Self {
            base: Base::from_variables(open, &variable, Given::Chat)?,
            state_store: variable("state_store")?,
            sidecar: Sidecar::from_variables(transport, variable)?,
            llm,
        })
    }

    /// Answers one request; failures become the contract's error JSON.
    pub async fn handle(
        &self,
        request: http::Request<Vec<u8>>,
        env: Env,
    ) -> http::Response<Vec<u8>> {
        let routed = self.route(&request, &env).await;
        edge::answer("chat-api", &request, routed)
    }

    async fn route(
        &self,
        request: &http::Request<Vec<u8>>,
        env: &Env,
    ) -> Result<http::Response<Vec<u8>>, ApiError> {
        let segments = edge::segments(request);
        let (user, route) = match segments.as_slice() {
            ["", "api", user, "chat"] => (*user, Route::Chat),
            ["", "api", user, "conversations", id] => (*user, Route::Conversation(id)),
            _ => return Err(ApiError::NotFound("route")),
        };
        let user = self.base.caller(request, user, env)?;
        let store = self.sidecar.dapr.state(&self.state_store);
        let mut chat = Chat::new(
            &self.sidecar.dapr,
            &self.base.storage,
            &self.sidecar.settings,
            &user,
        )
        .with_conversations(&store)
        .with_limits(self.base.limits);
        if let Some((llm, web)) = &self.llm {
            chat = chat.with_llm(llm, web);
        }
        let method = request.method();
        match route {
            Route::Chat if method == Method::POST => {
                let said = Said::parse(&json_body(request.body())?)?;
                let limit = self.base.limits.chat_messages_per_minute;
                rate::count_chat_message(&store, &user, env.now, limit).await?;
                let answer = chat.say(&said, env).await.map_err(|err| match err {
                    crate::TaskError::NotFound => ApiError::NotFound("conversation"),
                    err => err.into(),
                })?;
                Ok(json(StatusCode::OK, &answer))
            }
            Route::Chat => Err(ApiError::MethodNotAllowed(method.clone(), "POST")),
            Route::Conversation(id) if method == Method::GET => {
                let conversation = chat.conversation(id).await.map_err(|err| match err {
                    crate::TaskError::NotFound => ApiError::NotFound("conversation"),
                    err => err.into(),
                })?;
                Ok(json(StatusCode::OK, &conversation))
            }
            Route::Conversation(_) => Err(ApiError::MethodNotAllowed(method.clone(), "GET")),
        }
    }
}
